"""The gateway's configuration, from environment variables with working defaults."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from bot import privacy, settings

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_ACTION_HEALTH_URL = "http://127.0.0.1:5055/health"


class ConfigurationError(ValueError):
    pass


@dataclass(frozen=True)
class GatewayConfig:
    token: str
    mediator_chat_id: int | None = None
    base_url: str | None = None  # a local Bot API server, or a test fake
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    rasa_url: str = DEFAULT_RASA_URL
    rasa_token: str | None = None
    action_health_url: str | None = DEFAULT_ACTION_HEALTH_URL
    rasa_timeout: float = 30.0
    poll_timeout: int = 30  # long polling: seconds Telegram holds getUpdates open
    database_url: str = field(default_factory=settings.database_url)
    tracker_database_url: str = field(default_factory=privacy.tracker_database_url)
    retention_days: int = field(default_factory=settings.retention_days)
    # How often the queue of kept messages and the handoff queue are looked at.
    tick: dt.timedelta = dt.timedelta(seconds=5)
    reannounce_every: dt.timedelta = dt.timedelta(minutes=10)
    # Per chat: a burst of this many messages, then one every `flood_interval`.
    flood_burst: int = 6
    flood_interval: dt.timedelta = dt.timedelta(seconds=3)

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)


def _seconds(name: str, default: float) -> dt.timedelta:
    return dt.timedelta(seconds=float(os.environ.get(name, default)))


def from_environment() -> GatewayConfig:
    try:
        tracker_url, retention = settings.tracker_store().url, settings.retention_days()
    except settings.SettingsError as error:
        raise ConfigurationError(str(error)) from error
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigurationError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token")
    chat = os.environ.get("TELEGRAM_MEDIATOR_CHAT_ID", "").strip()
    try:
        mediator_chat_id = int(chat) if chat else None
    except ValueError as error:
        raise ConfigurationError(f"TELEGRAM_MEDIATOR_CHAT_ID must be a chat id such as -1001234567890, not {chat!r}") from error
    webhook_url = os.environ.get("TELEGRAM_WEBHOOK_URL") or None
    secret = os.environ.get("TELEGRAM_WEBHOOK_SECRET") or None
    if webhook_url and not secret:
        raise ConfigurationError("TELEGRAM_WEBHOOK_SECRET must be set with TELEGRAM_WEBHOOK_URL: it proves updates come from Telegram")
    return GatewayConfig(
        token=token,
        mediator_chat_id=mediator_chat_id,
        base_url=os.environ.get("TELEGRAM_BASE_URL") or None,
        webhook_url=webhook_url,
        webhook_secret=secret,
        webhook_listen=os.environ.get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=int(os.environ.get("TELEGRAM_WEBHOOK_PORT", 8443)),
        rasa_url=os.environ.get("RASA_URL", DEFAULT_RASA_URL).rstrip("/"),
        rasa_token=os.environ.get("RASA_TOKEN") or None,
        action_health_url=os.environ.get("ACTION_HEALTH_URL", DEFAULT_ACTION_HEALTH_URL) or None,
        rasa_timeout=float(os.environ.get("ACOLLIDA_RASA_TIMEOUT", 30)),
        tick=_seconds("ACOLLIDA_GATEWAY_TICK_SECONDS", 5),
        reannounce_every=_seconds("ACOLLIDA_HANDOFF_REANNOUNCE_SECONDS", 600),
        flood_burst=int(os.environ.get("ACOLLIDA_FLOOD_BURST", 6)),
        flood_interval=_seconds("ACOLLIDA_FLOOD_INTERVAL_SECONDS", 3),
        tracker_database_url=tracker_url,
        retention_days=retention,
    )
