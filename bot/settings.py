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


ACTIONS_PORT = 5055


def action_endpoint_url() -> str:
    return os.environ.get("ACTION_ENDPOINT_URL") or f"http://127.0.0.1:{ACTIONS_PORT}/webhook"


def rasa_environment() -> dict[str, str]:
    """What a Rasa process needs in its environment to expand the endpoints file as we do."""
    return {"ACOLLIDA_VAR_DIR": str(var_dir()), "ACTION_ENDPOINT_URL": action_endpoint_url()}


def tracker_store() -> TrackerStore:
    """Rasa's tracker store, from the endpoints file, as an SQLAlchemy URL.

    Raises SettingsError when the file names no SQL tracker store (erasure and
    retention need one), or when the retired TRACKER_DATABASE_URL names another.
    """
    from rasa.utils.endpoints import read_endpoint_config  # reads YAML and ${VARS} as `rasa run` does

    path = endpoints_path()
    if not path.is_file():
        raise SettingsError(f"ACOLLIDA_ENDPOINTS names {path}, which does not exist: point it at the endpoints file Rasa is started with")
    previous = {name: os.environ.get(name) for name in rasa_environment()}
    os.environ.update(rasa_environment())
    try:
        config = read_endpoint_config(str(path), "tracker_store")
    except Exception as error:  # Rasa raises its own exception for a missing ${VARIABLE}
        raise SettingsError(f"cannot read the tracker store from {path}: {error}") from error
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
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
