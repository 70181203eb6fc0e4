"""What the console runs with: read once from bot.settings, or given whole by a test."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from bot import settings


@dataclass(frozen=True)
class ConsoleConfig:
    database_url: str
    secret_key: str
    allowed_hosts: list[str]
    secure_cookies: bool = False
    session_hours: float = 8.0
    timezone: str = "Europe/Madrid"  # times on the pages are the office's
    clock: Callable[[], float] = field(default=time.time, compare=False)  # seconds; tests move it on

    @property
    def session_seconds(self) -> int:
        return max(1, round(self.session_hours * 3600))


def from_settings() -> ConsoleConfig:
    """Raises SettingsError (naming the variable and the fix) for settings a production console must not start with."""
    return ConsoleConfig(
        database_url=settings.database_url(),
        secret_key=settings.console_secret_key(),
        allowed_hosts=settings.console_allowed_hosts(),
        secure_cookies=settings.console_secure_cookies(),
        session_hours=settings.console_session_hours(),
        timezone=settings.timezone_name(),
    )
