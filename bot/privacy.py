"""Keeping conversations no longer than configured, and erasing a person's on request.

Conversations live in Rasa's SQL tracker store (table ``events``). The
retention period comes from ``ACOLLIDA_RETENTION_DAYS``; `acollida run`
purges at every start, and a long-running deployment runs
`acollida privacy purge` daily (cron or a scheduler).
"""
from __future__ import annotations

import argparse
import datetime as dt
import time

from sqlalchemy import delete, inspect, select

from bot import settings
from bot.database.sessions import engine_for
from bot.handoff.models import OPEN_STATUSES, HandoffRequest, TranscriptMessage
from bot.telegram.models import ButtonPayload, ChatProfile, OutgoingMessage, ReceivedUpdate
from bot.tracker_events import forget_conversation, purge_older_than

DEFAULT_RETENTION_DAYS = settings.DEFAULT_RETENTION_DAYS
retention_days = settings.retention_days

# Events Rasa puts in any conversation it is asked about, new or erased: nothing a person said or was told.
SESSION_START_EVENTS = {"action", "session_started"}


def tracker_database_url() -> str:
    """The tracker store Rasa really uses: the one the endpoints file names (see bot.settings)."""
    return settings.tracker_store().url


def erased_in_rasa(tracker: dict | None, before: float | None = None) -> bool:
    """True when Rasa's own HTTP API returned the conversation with no event of the person (up to ``before``).

    None (Rasa unreachable) is not erased: nothing is promised that was not checked.
    """
    if tracker is None:
        return False
    return not [
        event
        for event in tracker.get("events") or []
        if event.get("event") not in SESSION_START_EVENTS and (before is None or float(event.get("timestamp") or 0) <= before)
    ]


def user_messages_in(tracker: dict) -> list[tuple[dt.datetime, str]]:
    """What the person wrote, from a tracker as Rasa's HTTP API returns it."""
    return [
        (dt.datetime.fromtimestamp(event["timestamp"], dt.timezone.utc), event["text"])
        for event in tracker.get("events") or []
        if event.get("event") == "user" and event.get("text")
    ]


def purge_gateway_data(url: str, days: int, now: dt.datetime | None = None) -> int:
    """Deletes what the Telegram gateway keeps (chats, handoffs, transcripts, updates, buttons) older than ``days``.

    A chat silent for the whole period goes with its handoffs and transcripts;
    an open handoff is kept whatever its age.
    """
    engine = engine_for(url)
    if not inspect(engine).has_table("chat_profiles"):
        return 0
    cutoff = (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=days)
    open_chats = select(HandoffRequest.chat_id).where(HandoffRequest.status.in_(OPEN_STATUSES))
    closed_requests = select(HandoffRequest.id).where(HandoffRequest.status.not_in(OPEN_STATUSES), HandoffRequest.created_at < cutoff)
    statements = [
        delete(TranscriptMessage).where(TranscriptMessage.request_id.in_(closed_requests)),
        delete(HandoffRequest).where(HandoffRequest.status.not_in(OPEN_STATUSES), HandoffRequest.created_at < cutoff),
        delete(ChatProfile).where(ChatProfile.last_seen_at < cutoff, ChatProfile.chat_id.not_in(open_chats)),
        delete(ReceivedUpdate).where(ReceivedUpdate.received_at < cutoff),
        delete(ButtonPayload).where(ButtonPayload.created_at < cutoff),
        delete(OutgoingMessage).where(OutgoingMessage.created_at < cutoff),
    ]
    deleted = 0
    with engine.begin() as connection:
        for statement in statements:
            deleted += connection.execute(statement.execution_options(synchronize_session=False)).rowcount
    return deleted


def purge_all(days: int) -> int:
    """The retention rule applied to everything kept: conversations and the gateway's records."""
    if days < 0:
        raise settings.SettingsError(f"the retention must be 0 days or more, not {days}")
    return purge_older_than(tracker_database_url(), days) + purge_gateway_data(settings.database_url(), days) + purge_logs(days)


def purge_logs(days: int, now: float | None = None) -> int:
    """Log files are kept no longer than conversations: a day's file goes once it is older than the retention."""
    cutoff = (now if now is not None else time.time()) - dt.timedelta(days=days).total_seconds()
    deleted = 0
    for path in settings.log_dir().glob("*.log*"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def register(subparsers: argparse._SubParsersAction) -> None:
    privacy = subparsers.add_parser("privacy", help="retention and erasure of conversations")
    commands = privacy.add_subparsers(dest="privacy_command", required=True)
    purge = commands.add_parser("purge", help="delete conversations older than the retention period")
    purge.add_argument("--days", type=int, default=None, help=f"retention in days (default: ACOLLIDA_RETENTION_DAYS or {DEFAULT_RETENTION_DAYS})")
    # --days 0 means "keep nothing", not "the default".
    purge.set_defaults(func=lambda args: _report(purge_all(retention_days() if args.days is None else args.days), "deleted"))
    forget = commands.add_parser("forget", help="delete one conversation (a person's erasure request)")
    forget.add_argument("sender_id")
    forget.set_defaults(func=lambda args: _report(forget_conversation(tracker_database_url(), args.sender_id), "deleted"))


def _report(count: int, verb: str) -> int:
    print(f"{verb} {count} stored record(s)")
    return 0
