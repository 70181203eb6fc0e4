"""The gateway's configuration, as bot.settings reads it, in one frozen object the gateway's parts share."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot import settings


class ConfigurationError(ValueError):
    """A gateway setting that cannot work; the message names the variable and the fix."""


@dataclass(frozen=True)
class GatewayConfig:
    token: str
    database_url: str = field(default_factory=settings.database_url)
    tracker_database_url: str = field(default_factory=lambda: settings.tracker_store().url)
    mediator_chat_id: int | None = None
    base_url: str | None = None  # a local Bot API server, or a test fake
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None
    action_health_url: str | None = "http://127.0.0.1:5055/health"
    rasa_timeout: float = 30.0
    poll_timeout: int = 30  # long polling: seconds Telegram holds getUpdates open
    retention_days: int = settings.DEFAULT_RETENTION_DAYS
    # Where replicas share chat locks and flood allowances; None: this process alone, in memory.
    redis_url: str | None = None
    health_listen: str = "127.0.0.1"
    health_port: int | None = None  # None: no health endpoint (tests that run several gateways in one process)
    # How often the queue of kept messages and the handoff queue are looked at.
    tick: dt.timedelta = dt.timedelta(seconds=5)
    reannounce_every: dt.timedelta = dt.timedelta(minutes=10)
    # Per chat: a burst of this many messages, then one every `flood_interval`.
    flood_burst: int = 6
    flood_interval: dt.timedelta = dt.timedelta(seconds=3)

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)


def from_environment() -> GatewayConfig:
    try:
        token = settings.telegram_token()
        if not token:
            raise ConfigurationError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token")
        webhook_url, secret, listen, port = settings.telegram_webhook()
        burst, interval = settings.flood_allowance()
        return GatewayConfig(
            token=token,
            database_url=settings.database_url(),
            tracker_database_url=settings.tracker_store().url,
            mediator_chat_id=settings.telegram_mediator_chat_id(),
            base_url=settings.telegram_base_url(),
            webhook_url=webhook_url,
            webhook_secret=secret,
            webhook_listen=listen,
            webhook_port=port,
            rasa_url=settings.rasa_url(),
            rasa_token=settings.rasa_token(),
            action_health_url=settings.action_health_url(),
            rasa_timeout=settings.rasa_timeout(),
            retention_days=settings.retention_days(),
            redis_url=settings.redis_url(),
            health_listen=settings.health_listen(),
            health_port=settings.gateway_health_port(),
            tick=dt.timedelta(seconds=settings.gateway_tick_seconds()),
            reannounce_every=dt.timedelta(seconds=settings.handoff_reannounce_seconds()),
            flood_burst=burst,
            flood_interval=dt.timedelta(seconds=interval),
        )
    except settings.SettingsError as error:
        raise ConfigurationError(str(error)) from error
