"""Keeping conversations no longer than configured, and erasing a person's on request.

Conversations live in Rasa's SQL tracker store (table ``events``). The
retention period comes from ``ACOLLIDA_RETENTION_DAYS``; `acollida run`
purges at every start, and a long-running deployment runs
`acollida privacy purge` daily (cron or a scheduler).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time

from sqlalchemy import MetaData, Table, delete, inspect, select
from sqlalchemy.engine import Engine

from bot import settings
from bot.handoff.models import OPEN_STATUSES, ButtonPayload, HandoffRequest, Newcomer, ReceivedUpdate, TranscriptMessage
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


def user_messages(url: str, sender_id: str) -> list[tuple[dt.datetime, str]]:
    """What the person wrote to the assistant, as stored: (when, text), oldest first."""
    engine = engine_for(url)
    events = _events(engine)
    if events is None:
        return []
    query = select(events.c.timestamp, events.c.data).where(events.c.sender_id == sender_id, events.c.type_name == "user").order_by(events.c.id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    messages = []
    for timestamp, data in rows:
        text = (json.loads(data or "{}") or {}).get("text")
        if text:
            messages.append((dt.datetime.fromtimestamp(timestamp, dt.timezone.utc), text))
    return messages


def purge_gateway_data(url: str, days: int, now: dt.datetime | None = None) -> int:
    """Deletes what the Telegram gateway keeps (chats, handoffs, transcripts, updates, buttons) older than ``days``.

    A chat silent for the whole period goes with its handoffs and transcripts;
    an open handoff is kept whatever its age.
    """
    engine = engine_for(url)
    if not inspect(engine).has_table("newcomers"):
        return 0
    cutoff = (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=days)
    open_chats = select(HandoffRequest.chat_id).where(HandoffRequest.status.in_(OPEN_STATUSES))
    closed_requests = select(HandoffRequest.id).where(HandoffRequest.status.not_in(OPEN_STATUSES), HandoffRequest.created_at < cutoff)
    statements = [
        delete(TranscriptMessage).where(TranscriptMessage.request_id.in_(closed_requests)),
        delete(HandoffRequest).where(HandoffRequest.status.not_in(OPEN_STATUSES), HandoffRequest.created_at < cutoff),
        delete(Newcomer).where(Newcomer.last_seen_at < cutoff, Newcomer.chat_id.not_in(open_chats)),
        delete(ReceivedUpdate).where(ReceivedUpdate.received_at < cutoff),
        delete(ButtonPayload).where(ButtonPayload.created_at < cutoff),
    ]
    deleted = 0
    with engine.begin() as connection:
        for statement in statements:
            deleted += connection.execute(statement.execution_options(synchronize_session=False)).rowcount
    return deleted


def purge_all(days: int) -> int:
    """The retention rule applied to everything kept: conversations and the gateway's records."""
    return purge_older_than(tracker_database_url(), days) + purge_gateway_data(settings.database_url(), days)


def register(subparsers: argparse._SubParsersAction) -> None:
    privacy = subparsers.add_parser("privacy", help="retention and erasure of conversations")
    commands = privacy.add_subparsers(dest="privacy_command", required=True)
    purge = commands.add_parser("purge", help="delete conversations older than the retention period")
    purge.add_argument("--days", type=int, default=None, help=f"retention in days (default: ACOLLIDA_RETENTION_DAYS or {DEFAULT_RETENTION_DAYS})")
    purge.set_defaults(func=lambda args: _report(purge_all(args.days or retention_days()), "deleted"))
    forget = commands.add_parser("forget", help="delete one conversation (a person's erasure request)")
    forget.add_argument("sender_id")
    forget.set_defaults(func=lambda args: _report(forget_conversation(tracker_database_url(), args.sender_id), "deleted"))


def _report(count: int, verb: str) -> int:
    print(f"{verb} {count} stored record(s)")
    return 0
