"""What newcomers sent: each update handled once, each message kept until the assistant answered it.

A message waits in the database (``pending``) while the assistant is down,
or while its chat writes faster than its flood allowance; the gateway's
background loop answers waiting messages in the order they came.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.handoff.models import UPDATE_DONE, UPDATE_PENDING, ReceivedUpdate


def first_delivery(session: Session, update_id: int, chat_id: int) -> bool:
    """Records the update; False when it was already handled (Telegram delivers again after a timeout or restart)."""
    try:
        with session.begin_nested():
            session.add(ReceivedUpdate(update_id=update_id, chat_id=chat_id, status=UPDATE_DONE))
    except IntegrityError:
        return False
    return True


def keep(session: Session, update_id: int, text: str, metadata: dict) -> None:
    update = session.get(ReceivedUpdate, update_id)
    update.status, update.text, update.message_metadata = UPDATE_PENDING, text, metadata
    session.flush()


def answered(session: Session, update_id: int) -> None:
    """Done: the text is no longer needed, only the id (to recognise a repeated delivery)."""
    update = session.get(ReceivedUpdate, update_id)
    if update is not None:
        update.status, update.text, update.message_metadata = UPDATE_DONE, None, None
        session.flush()


def pending_of(session: Session, chat_id: int) -> list[ReceivedUpdate]:
    return list(
        session.execute(
            select(ReceivedUpdate).where(ReceivedUpdate.chat_id == chat_id, ReceivedUpdate.status == UPDATE_PENDING).order_by(ReceivedUpdate.update_id)
        ).scalars()
    )


def chats_with_pending(session: Session) -> list[int]:
    rows = session.execute(select(ReceivedUpdate.chat_id).where(ReceivedUpdate.status == UPDATE_PENDING).distinct()).scalars()
    return sorted(rows)


def forget_chat(session: Session, chat_id: int) -> None:
    session.execute(delete(ReceivedUpdate).where(ReceivedUpdate.chat_id == chat_id))


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FloodLimit:
    """A token bucket per chat: a burst, then one message per interval; the rest waits its turn."""

    def __init__(self, burst: int, interval: dt.timedelta, clock=time.monotonic):
        self.burst = burst
        self.rate = 1 / max(interval.total_seconds(), 1e-9)
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def allow(self, chat_id: int) -> bool:
        now = self._clock()
        bucket = self._buckets.setdefault(chat_id, _Bucket(float(self.burst), now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True
