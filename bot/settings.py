"""Configuration from environment variables, each with a working default: the one place that reads them.

Every store has one source of truth. The database is ``DATABASE_URL``; the
var folder is ``ACOLLIDA_VAR_DIR``; Rasa's tracker store and lock store are
what the endpoints file Rasa is started with names (``ACOLLIDA_ENDPOINTS``),
read here the way Rasa reads it, so that erasure and retention act on the
store Rasa really writes to.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RETENTION_DAYS = 90


class SettingsError(ValueError):
    """A setting that cannot work; the message names the variable and the fix."""


def var_dir() -> Path:
    path = Path(os.environ.get("ACOLLIDA_VAR_DIR") or PROJECT_ROOT / "var")
    # Absolute, so that Rasa (which expands ${ACOLLIDA_VAR_DIR} in endpoints.yml) and
    # every other process started from another folder find the same files.
    path = (path if path.is_absolute() else Path.cwd() / path).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    path = var_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir() / 'acollida.db'}"


def knowledge_pack_path() -> Path:
    return Path(os.environ.get("ACOLLIDA_KNOWLEDGE_PACK", PROJECT_ROOT / "knowledge" / "osona"))


def review_max_age_days(default: int) -> int:
    """`kb check` flags articles not reviewed for this long; the pack sets the default."""
    value = os.environ.get("ACOLLIDA_REVIEW_MAX_AGE_DAYS")
    return int(value) if value else default


def retention_days() -> int:
    """How long conversations, transcripts, the gateway's records and the logs are kept."""
    value = os.environ.get("ACOLLIDA_RETENTION_DAYS", "").strip()
    if not value:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(value)
    except ValueError as error:
        raise SettingsError(f"ACOLLIDA_RETENTION_DAYS must be a whole number of days, not {value!r}") from error
    if days < 0:
        raise SettingsError(f"ACOLLIDA_RETENTION_DAYS must be 0 or more, not {days}")
    return days


def endpoints_path() -> Path:
    """The endpoints file Rasa is started with; relative paths are from the project."""
    path = Path(os.environ.get("ACOLLIDA_ENDPOINTS") or "endpoints.yml")
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class TrackerStore:
    url: str  # an SQLAlchemy URL
    endpoints: Path  # where it was read from, for messages


def _text(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _number(name: str, default: float, kind=float, minimum: float | None = 0):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError as error:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name} must be {what}, not {value!r}") from error
    if minimum is not None and number < minimum:
        raise SettingsError(f"{name} must be {minimum} or more, not {value!r}")
    return number


def _port(name: str, default: int) -> int:
    port = _number(name, default, int, 1)
    if port > 65535:
        raise SettingsError(f"{name} must be a TCP port (1-65535), not {port}")
    return port


# --- the processes and where they listen -------------------------------------------------------


def rasa_port() -> int:
    """Where `acollida run` starts the Rasa server."""
    return _port("ACOLLIDA_RASA_PORT", 5005)


def actions_port() -> int:
    """Where `acollida run` starts the action server."""
    return _port("ACOLLIDA_ACTIONS_PORT", 5055)


def gateway_health_port() -> int:
    """Where the Telegram gateway answers ``GET /health`` (127.0.0.1 unless ACOLLIDA_HEALTH_LISTEN says otherwise)."""
    return _port("ACOLLIDA_GATEWAY_HEALTH_PORT", 5056)


def health_listen() -> str:
    return _text("ACOLLIDA_HEALTH_LISTEN", "127.0.0.1")


def action_endpoint_url() -> str:
    return _text("ACTION_ENDPOINT_URL") or f"http://127.0.0.1:{actions_port()}/webhook"


def rasa_url() -> str:
    """Where the gateway and the local chat find Rasa (its HTTP API enabled)."""
    return (_text("RASA_URL") or f"http://127.0.0.1:{rasa_port()}").rstrip("/")


def rasa_token() -> str | None:
    return _text("RASA_TOKEN")


def action_health_url() -> str | None:
    """Where the gateway checks that the action server is up; empty (set to "") for none."""
    if "ACTION_HEALTH_URL" in os.environ:
        return os.environ["ACTION_HEALTH_URL"].strip() or None
    return f"http://127.0.0.1:{actions_port()}/health"


def rasa_timeout() -> float:
    return _number("ACOLLIDA_RASA_TIMEOUT", 30.0)


def timezone_name() -> str:
    """Mediators' working hours are in this zone."""
    return _text("ACOLLIDA_TIMEZONE", "Europe/Madrid")


# --- the Telegram gateway ----------------------------------------------------------------------


def telegram_token() -> str | None:
    return _text("TELEGRAM_BOT_TOKEN")


def telegram_mediator_chat_id() -> int | None:
    chat = _text("TELEGRAM_MEDIATOR_CHAT_ID")
    if chat is None:
        return None
    try:
        return int(chat)
    except ValueError as error:
        raise SettingsError(f"TELEGRAM_MEDIATOR_CHAT_ID must be a chat id such as -1001234567890, not {chat!r}") from error


def telegram_base_url() -> str | None:
    return _text("TELEGRAM_BASE_URL")


def telegram_webhook() -> tuple[str | None, str | None, str, int]:
    """(url, secret, listen address, port); no url means polling."""
    url, secret = _text("TELEGRAM_WEBHOOK_URL"), _text("TELEGRAM_WEBHOOK_SECRET")
    if url and not secret:
        raise SettingsError("TELEGRAM_WEBHOOK_SECRET must be set with TELEGRAM_WEBHOOK_URL: it proves updates come from Telegram")
    return url, secret, _text("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"), _port("TELEGRAM_WEBHOOK_PORT", 8443)


def gateway_tick_seconds() -> float:
    return _number("ACOLLIDA_GATEWAY_TICK_SECONDS", 5.0)


def handoff_reannounce_seconds() -> float:
    return _number("ACOLLIDA_HANDOFF_REANNOUNCE_SECONDS", 600.0)


def flood_allowance() -> tuple[int, float]:
    """Per chat: a burst of this many messages, then one every so many seconds."""
    return _number("ACOLLIDA_FLOOD_BURST", 6, int, 1), _number("ACOLLIDA_FLOOD_INTERVAL_SECONDS", 3.0)


# Rasa's lock on a conversation lives this long when its replica dies holding it. Shorter than the
# gateway's wait for Rasa, so the replica that takes over answers before the gateway gives up; far
# longer than a turn takes.
TICKET_LOCK_LIFETIME_SECONDS = 15


def rasa_environment() -> dict[str, str]:
    """What a Rasa process needs in its environment to expand the endpoints file as we do."""
    return {
        "ACOLLIDA_VAR_DIR": str(var_dir()),
        "ACTION_ENDPOINT_URL": action_endpoint_url(),
        "TICKET_LOCK_LIFETIME": _text("TICKET_LOCK_LIFETIME", str(TICKET_LOCK_LIFETIME_SECONDS)),
    }


def tracker_store() -> TrackerStore:
    """Rasa's tracker store, from the endpoints file, as an SQLAlchemy URL.

    Raises SettingsError when the file names no SQL tracker store (erasure and
    retention need one), or when the retired TRACKER_DATABASE_URL names another.
    """
    path = endpoints_path()
    config = _endpoint("tracker_store")
    if config is None or (config.type or "").lower() != "sql":
        kind = "none" if config is None else config.type
        raise SettingsError(
            f"{path} names tracker store type {kind!r}: Acollida keeps conversations only in an SQL tracker store "
            "(type: SQL), so that /mydata, /forget and retention can act on them"
        )
    url = _sql_url(config.url, config.kwargs)
    retired = os.environ.get("TRACKER_DATABASE_URL")
    if retired and _same_database(retired) != _same_database(url):
        raise SettingsError(
            f"TRACKER_DATABASE_URL ({retired}) is not the tracker store Rasa uses ({url}, from {path}): "
            "unset TRACKER_DATABASE_URL; the endpoints file is the one source of truth"
        )
    return TrackerStore(url, path)


def _endpoint(name: str):
    """One section of the endpoints file, read as `rasa run` reads it (YAML, ${VARIABLES} expanded); None when absent."""
    from rasa.utils.endpoints import read_endpoint_config

    path = endpoints_path()
    if not path.is_file():
        raise SettingsError(f"ACOLLIDA_ENDPOINTS names {path}, which does not exist: point it at the endpoints file Rasa is started with")
    previous = {name: os.environ.get(name) for name in rasa_environment()}
    os.environ.update(rasa_environment())
    try:
        return read_endpoint_config(str(path), name)
    except Exception as error:  # Rasa raises its own exception for a missing ${VARIABLE}
        raise SettingsError(f"cannot read the {name.replace('_', ' ')} from {path}: {error}") from error
    finally:
        for variable, value in previous.items():
            if value is None:
                os.environ.pop(variable, None)


def redis_url() -> str | None:
    """The Redis of Rasa's lock store, when the endpoints file names one: gateway replicas share their chat locks there.

    None means one process (the local SQLite setup): the gateway keeps its locks in memory.
    """
    config = _endpoint("lock_store")
    if config is None or (config.type or "").lower() != "redis":
        return None
    from sqlalchemy.engine import URL

    options = config.kwargs
    host = str(config.url or "localhost")
    if "://" in host:
        return host
    port = options.get("port")
    return URL.create(
        "redis",
        password=str(options["password"]) if options.get("password") else None,
        host=host,
        port=int(port) if port not in (None, "") else 6379,
        database=str(options.get("db") if options.get("db") not in (None, "") else 1),
    ).render_as_string(hide_password=False)


def _sql_url(host: str | None, options: dict) -> str:
    """The URL Rasa's SQLTrackerStore connects to (its get_db_url, without importing the tracker stores)."""
    from sqlalchemy.engine import URL

    dialect = options.get("dialect", "sqlite")
    db = str(options.get("db", "rasa.db"))
    if host and "://" in str(host):
        return str(host)
    if dialect == "sqlite":
        # Rasa opens a relative SQLite path from its working folder: the project, where `acollida run` starts it.
        database = Path(db)
        return f"sqlite:///{database if database.is_absolute() else PROJECT_ROOT / database}"
    port = options.get("port")
    return URL.create(
        dialect,
        username=options.get("username") or None,
        password=options.get("password") or None,
        host=str(host) if host else None,
        port=int(port) if port not in (None, "") else None,
        database=db,
        query=options.get("query") or {},
    ).render_as_string(hide_password=False)


def _same_database(url: str) -> str:
    """A URL in a form that compares equal for the same database (resolved SQLite paths)."""
    if url.startswith("sqlite:///"):
        return "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    return url.replace("postgresql+psycopg2://", "postgresql://")


# --- the staff console -------------------------------------------------------------------------
# A console on a loopback address is one person's machine; on any other address it is
# production, where a setting that would leave staff sessions guessable or sent in clear
# refuses the start (SettingsError naming the variable and the fix).

CONSOLE_SECRET_FILE = "console-secret"
CONSOLE_MIN_SECRET_LENGTH = 32
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in _TRUE + _FALSE:
        raise SettingsError(f"{name} must be true or false, not {value!r}")
    return value in _TRUE


def console_host() -> str:
    return _text("ACOLLIDA_CONSOLE_HOST", "127.0.0.1")


def console_port() -> int:
    return _port("ACOLLIDA_CONSOLE_PORT", 5080)


def console_in_production() -> bool:
    """True when the console listens on an address other machines can reach."""
    import ipaddress

    host = console_host()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost resolves to who knows where
        return True


def console_secret_key() -> str:
    """The key that signs staff sessions; on a loopback host one is generated once and kept in the var folder."""
    key = _text("ACOLLIDA_CONSOLE_SECRET_KEY")
    fix = "set it to a random value of 32 characters or more, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
    if console_in_production():
        if key is None:
            raise SettingsError(f"ACOLLIDA_CONSOLE_SECRET_KEY is not set and the console listens on {console_host()}: {fix}")
        if len(key) < CONSOLE_MIN_SECRET_LENGTH:
            raise SettingsError(f"ACOLLIDA_CONSOLE_SECRET_KEY is too weak ({len(key)} characters) for a console on {console_host()}: {fix}")
    return key or _generated_console_secret()


def _generated_console_secret() -> str:
    import secrets

    path = var_dir() / CONSOLE_SECRET_FILE
    try:
        # Created readable by its owner only, and never overwritten: every process shares one key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def console_allowed_hosts() -> list[str]:
    """The Host names the console answers to (a request naming another gets 400)."""
    value = _text("ACOLLIDA_CONSOLE_ALLOWED_HOSTS")
    if value is None:
        if console_in_production():
            raise SettingsError(
                f"ACOLLIDA_CONSOLE_ALLOWED_HOSTS is not set and the console listens on {console_host()}: "
                "set it to the names staff type in the address bar, e.g. console.example.org"
            )
        return ["127.0.0.1", "localhost"]
    hosts = [host.strip().lower() for host in value.split(",") if host.strip()]
    for host in hosts:
        if "*" in host[1:] or (host.startswith("*") and host != "*" and not host.startswith("*.")):
            raise SettingsError(f"ACOLLIDA_CONSOLE_ALLOWED_HOSTS: {host!r} is not a host name; a wildcard may only start one, as in *.example.org")
    if not hosts or (console_in_production() and "*" in hosts):
        raise SettingsError("ACOLLIDA_CONSOLE_ALLOWED_HOSTS must name the hosts the console answers to, e.g. console.example.org")
    return hosts


def console_secure_cookies() -> bool:
    """Session cookies only over HTTPS; required in production."""
    secure = _flag("ACOLLIDA_CONSOLE_SECURE_COOKIES", False)
    if console_in_production() and not secure:
        raise SettingsError(
            f"ACOLLIDA_CONSOLE_SECURE_COOKIES is off and the console listens on {console_host()}: "
            "serve it over HTTPS (the load balancer) and set ACOLLIDA_CONSOLE_SECURE_COOKIES=true"
        )
    return secure


def console_session_hours() -> float:
    """A staff session ends after this many hours without a request."""
    hours = _number("ACOLLIDA_CONSOLE_SESSION_HOURS", 8.0)
    if hours <= 0:
        raise SettingsError(f"ACOLLIDA_CONSOLE_SESSION_HOURS must be more than 0, not {hours}")
    return hours
