"""What Telegram sent: each update recorded before Telegram is told it arrived, handled once, kept until answered.

An update is written down (``received``, with the update itself) before the
webhook answers Telegram, or as soon as polling fetched it. A replica claims
it to handle it (``handling``); a newcomer's message then waits (``pending``)
until the assistant answered it, which may be later when the assistant is
down or the chat writes faster than its allowance. What a replica that died
had received or was handling is taken up by another after a while: nothing
Telegram was told arrived is lost. Done updates keep only their id, to
recognise a repeated delivery.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.database.base import utcnow
from bot.telegram.models import UPDATE_DONE, UPDATE_PENDING, UPDATE_RECEIVED, ReceivedUpdate

HANDLING = "handling"
# Not yet answered: an earlier one of these holds a chat's later messages back.
UNANSWERED = (UPDATE_RECEIVED, HANDLING, UPDATE_PENDING)
# An update left received or handling this long belongs to a replica that died (handling takes seconds).
ABANDONED_AFTER = dt.timedelta(seconds=90)
# An update whose handling failed this often is given up, so one bad update cannot come back for ever.
MAX_HANDLING_ATTEMPTS = 3


def record(session: Session, update_id: int, chat_id: int, raw: dict) -> None:
    """Writes the update down unless it already is (Telegram delivers again after a timeout)."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ReceivedUpdate).values(update_id=update_id, chat_id=chat_id, status=UPDATE_RECEIVED, raw=raw, attempts=0, received_at=utcnow())
    session.execute(statement.on_conflict_do_nothing(index_elements=["update_id"]))


def claim(session: Session, update_id: int) -> bool:
    """Takes the update to handle it: True for exactly one replica, once (one conditional UPDATE)."""
    result = session.execute(
        update(ReceivedUpdate)
        .where(ReceivedUpdate.update_id == update_id, ReceivedUpdate.status == UPDATE_RECEIVED)
        .values(status=HANDLING, received_at=utcnow(), attempts=ReceivedUpdate.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def handled(session: Session, update_id: int) -> None:
    """The update's handlers ran: unless its message waits for the assistant, only its id is kept."""
    session.execute(
        update(ReceivedUpdate)
        .where(ReceivedUpdate.update_id == update_id, ReceivedUpdate.status == HANDLING)
        .values(status=UPDATE_DONE, raw=None, text=None, message_metadata=None)
        .execution_options(synchronize_session=False)
    )


def keep(session: Session, update_id: int, text: str, metadata: dict) -> None:
    """The message waits for the assistant; the update itself is no longer needed."""
    found = session.get(ReceivedUpdate, update_id)
    found.status, found.text, found.message_metadata, found.raw, found.attempts = UPDATE_PENDING, text, metadata, None, 0
    session.flush()


def answered(session: Session, update_id: int) -> None:
    """Done: the text is no longer needed, only the id (to recognise a repeated delivery)."""
    found = session.get(ReceivedUpdate, update_id)
    if found is not None:
        found.status, found.text, found.message_metadata, found.raw = UPDATE_DONE, None, None, None
        session.flush()


def pending_of(session: Session, chat_id: int) -> list[ReceivedUpdate]:
    return list(
        session.execute(
            select(ReceivedUpdate).where(ReceivedUpdate.chat_id == chat_id, ReceivedUpdate.status == UPDATE_PENDING).order_by(ReceivedUpdate.update_id)
        ).scalars()
    )


def earlier_unanswered(session: Session, chat_id: int, update_id: int) -> bool:
    """Whether an earlier update of the chat is still to be answered: whoever answers it answers this one after it."""
    return (
        session.execute(
            select(ReceivedUpdate.update_id).where(
                ReceivedUpdate.chat_id == chat_id, ReceivedUpdate.update_id < update_id, ReceivedUpdate.status.in_(UNANSWERED)
            ).limit(1)
        ).first()
        is not None
    )


def earlier_in_hand(session: Session, chat_id: int, update_id: int) -> bool:
    """Whether an earlier update of the chat is received or being handled, not yet kept: answering this one must wait."""
    return (
        session.execute(
            select(ReceivedUpdate.update_id).where(
                ReceivedUpdate.chat_id == chat_id, ReceivedUpdate.update_id < update_id, ReceivedUpdate.status.in_((UPDATE_RECEIVED, HANDLING))
            ).limit(1)
        ).first()
        is not None
    )


def chats_with_pending(session: Session) -> list[int]:
    rows = session.execute(select(ReceivedUpdate.chat_id).where(ReceivedUpdate.status == UPDATE_PENDING).distinct()).scalars()
    return sorted(rows)


def abandoned(session: Session, now: dt.datetime | None = None) -> list[dict]:
    """Updates a replica received or began and never finished: released to be handled again, oldest first.

    One that failed MAX_HANDLING_ATTEMPTS times is given up instead (marked done).
    """
    cutoff = (now or utcnow()) - ABANDONED_AFTER
    stale = list(
        session.execute(
            select(ReceivedUpdate)
            .where(ReceivedUpdate.status.in_((UPDATE_RECEIVED, HANDLING)), ReceivedUpdate.received_at < cutoff)
            .order_by(ReceivedUpdate.update_id)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    released = []
    for found in stale:
        if found.attempts >= MAX_HANDLING_ATTEMPTS or found.raw is None:
            found.status, found.raw, found.text, found.message_metadata = UPDATE_DONE, None, None, None
            continue
        found.status, found.received_at = UPDATE_RECEIVED, utcnow()
        released.append(found.raw)
    session.flush()
    return released


def forget_chat(session: Session, chat_id: int) -> None:
    session.execute(delete(ReceivedUpdate).where(ReceivedUpdate.chat_id == chat_id))
