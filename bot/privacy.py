"""Keeping conversations no longer than configured, and erasing a person's on request.

Conversations live in Rasa's SQL tracker store (table ``events``). The
retention period comes from ``ACOLLIDA_RETENTION_DAYS``; `acollida run`
purges at every start, and a long-running deployment runs
`acollida privacy purge` daily (cron or a scheduler).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from sqlalchemy import MetaData, Table, delete, inspect
from sqlalchemy.engine import Engine

from bot import settings
from bot.knowledge.database import engine_for

DEFAULT_RETENTION_DAYS = 90


def retention_days() -> int:
    return int(os.environ.get("ACOLLIDA_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def tracker_database_url() -> str:
    return os.environ.get("TRACKER_DATABASE_URL") or f"sqlite:///{settings.var_dir() / 'tracker.db'}"


def _events(engine: Engine) -> Table | None:
    if not inspect(engine).has_table("events"):
        return None  # no conversation stored yet
    return Table("events", MetaData(), autoload_with=engine)


def purge_older_than(url: str, days: int, now: float | None = None) -> int:
    """Delete every stored event older than ``days``; returns how many."""
    engine = engine_for(url)
    events = _events(engine)
    if events is None:
        return 0
    cutoff = (now if now is not None else time.time()) - dt.timedelta(days=days).total_seconds()
    with engine.begin() as connection:
        return connection.execute(delete(events).where(events.c.timestamp < cutoff)).rowcount


def forget_conversation(url: str, sender_id: str) -> int:
    """Delete everything stored about one conversation; returns how many events."""
    engine = engine_for(url)
    events = _events(engine)
    if events is None:
        return 0
    with engine.begin() as connection:
        return connection.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount


def register(subparsers: argparse._SubParsersAction) -> None:
    privacy = subparsers.add_parser("privacy", help="retention and erasure of conversations")
    commands = privacy.add_subparsers(dest="privacy_command", required=True)
    purge = commands.add_parser("purge", help="delete conversations older than the retention period")
    purge.add_argument("--days", type=int, default=None, help=f"retention in days (default: ACOLLIDA_RETENTION_DAYS or {DEFAULT_RETENTION_DAYS})")
    purge.set_defaults(func=lambda args: _report(purge_older_than(tracker_database_url(), args.days or retention_days()), "deleted"))
    forget = commands.add_parser("forget", help="delete one conversation (a person's erasure request)")
    forget.add_argument("sender_id")
    forget.set_defaults(func=lambda args: _report(forget_conversation(tracker_database_url(), args.sender_id), "deleted"))


def _report(count: int, verb: str) -> int:
    print(f"{verb} {count} stored event(s)")
    return 0
