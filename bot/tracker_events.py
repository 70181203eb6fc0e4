"""Rasa's tracker store, read and written directly: the one place that knows its ``events`` table.

Everything else reads conversations through Rasa's HTTP API. Direct access is
needed where Rasa offers no API: retention (delete what is older than the
period), erasure (delete a conversation's events) and, when Rasa is down,
showing a person what they wrote.
"""
from __future__ import annotations

import datetime as dt
import json
import time

from sqlalchemy import MetaData, Table, delete, inspect, select
from sqlalchemy.engine import Engine

from bot.database.sessions import engine_for


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


def forget_conversation(url: str, sender_id: str, before: float | None = None) -> int:
    """Delete everything stored about one conversation (up to ``before``, a timestamp); returns how many events."""
    engine = engine_for(url)
    events = _events(engine)
    if events is None:
        return 0
    condition = events.c.sender_id == sender_id
    if before is not None:
        condition = condition & (events.c.timestamp <= before)
    with engine.begin() as connection:
        return connection.execute(delete(events).where(condition)).rowcount


def user_messages(url: str, sender_id: str, before: float | None = None) -> list[tuple[dt.datetime, str]]:
    """What the person wrote to the assistant, as stored: (when, text), oldest first."""
    engine = engine_for(url)
    events = _events(engine)
    if events is None:
        return []
    condition = (events.c.sender_id == sender_id) & (events.c.type_name == "user")
    if before is not None:
        condition = condition & (events.c.timestamp <= before)
    query = select(events.c.timestamp, events.c.data).where(condition).order_by(events.c.id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    messages = []
    for timestamp, data in rows:
        text = (json.loads(data or "{}") or {}).get("text")
        if text:
            messages.append((dt.datetime.fromtimestamp(timestamp, dt.timezone.utc), text))
    return messages
