"""The life of a handoff request: opened, announced, claimed, released or transferred, ended.

Every change is one database statement or transaction, so two mediators
pressing "take" together, or two gateway replicas, cannot both win.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.database.base import as_utc, utcnow
from bot.handoff.models import (
    CANCELLED,
    CLAIMED,
    ENDED,
    EVENT_CLOSED,
    EVENT_OPENED,
    OPEN_STATUSES,
    WAITING,
    HandoffEvent,
    HandoffRequest,
    Mediator,
    TranscriptMessage,
)


def open_request_of(session: Session, chat_id: int) -> HandoffRequest | None:
    return session.execute(
        select(HandoffRequest).where(HandoffRequest.chat_id == chat_id, HandoffRequest.status.in_(OPEN_STATUSES)).order_by(HandoffRequest.id.desc())
    ).scalars().first()


def open_request(
    session: Session,
    *,
    chat_id: int,
    sender_id: str,
    language: str,
    reason: str,
    topic: str | None = None,
    municipality: str | None = None,
) -> tuple[HandoffRequest, bool]:
    """The chat's open request, or a new one; says whether it is new."""
    existing = open_request_of(session, chat_id)
    if existing is not None:
        return existing, False
    request = HandoffRequest(
        chat_id=chat_id,
        sender_id=sender_id,
        language=language,
        reason=reason,
        topic=topic,
        municipality=municipality,
        status=WAITING,
    )
    session.add(request)
    session.flush()
    session.add(HandoffEvent(request_id=request.id, kind=EVENT_OPENED))
    session.flush()
    return request, True


def claim(session: Session, request_id: int, mediator: Mediator) -> bool:
    """Gives a waiting request to the mediator; False when someone else was first."""
    result = session.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == request_id, HandoffRequest.status == WAITING)
        .values(status=CLAIMED, mediator_id=mediator.id, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return result.rowcount == 1


def held_by(request: HandoffRequest, mediator: Mediator | None) -> bool:
    return mediator is not None and request.status == CLAIMED and request.mediator_id == mediator.id


def release(session: Session, request: HandoffRequest) -> None:
    """Back to the queue, to be announced again at once."""
    request.status = WAITING
    request.mediator_id = None
    request.claimed_at = None
    request.announced_at = None
    session.flush()


def transfer(session: Session, request: HandoffRequest, to: Mediator) -> None:
    request.mediator_id = to.id
    request.claimed_at = utcnow()
    session.flush()


def close(session: Session, request: HandoffRequest, status: str = ENDED) -> None:
    """Ends (or cancels) the request; the assistant takes the conversation back."""
    assert status in (ENDED, CANCELLED)
    request.status = status
    request.ended_at = utcnow()
    session.add(HandoffEvent(request_id=request.id, kind=EVENT_CLOSED))
    session.flush()


def record(
    session: Session,
    request: HandoffRequest,
    author: str,
    kind: str,
    text: str | None,
    *,
    chat_message_id: int | None = None,
    group_message_id: int | None = None,
    relayed: bool = False,
) -> TranscriptMessage:
    message = TranscriptMessage(
        request_id=request.id, author=author, kind=kind, text=text, chat_message_id=chat_message_id, group_message_id=group_message_id, relayed=relayed
    )
    session.add(message)
    session.flush()
    return message


def take_announcement(session: Session, request_id: int, now: dt.datetime, every: dt.timedelta) -> bool:
    """Marks a waiting request announced now, if it is due; False when it is not (or another loop just did it)."""
    due = or_(HandoffRequest.announced_at.is_(None), HandoffRequest.announced_at <= now - every)
    result = session.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == request_id, HandoffRequest.status == WAITING, due)
        .values(announced_at=now, announcements=HandoffRequest.announcements + 1)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return result.rowcount == 1


def due_for_announcement(session: Session, now: dt.datetime, every: dt.timedelta) -> list[HandoffRequest]:
    """Waiting requests never announced, or announced longer ago than ``every``."""
    return [request for request in waiting_requests(session) if request.announced_at is None or as_utc(request.announced_at) <= now - every]


def events_due(session: Session, chat_id: int) -> list[tuple[int, int, str, str]]:
    """What the gateway must still do about the chat's handoffs, oldest first: (event id, request id, sender, kind)."""
    rows = session.execute(
        select(HandoffEvent.id, HandoffEvent.request_id, HandoffRequest.sender_id, HandoffEvent.kind)
        .join(HandoffRequest, HandoffRequest.id == HandoffEvent.request_id)
        .where(HandoffRequest.chat_id == chat_id)
        .order_by(HandoffEvent.id)
    )
    return [tuple(row) for row in rows]


def event_delivered(session: Session, event_id: int) -> None:
    session.execute(delete(HandoffEvent).where(HandoffEvent.id == event_id))


def forget_chat(session: Session, chat_id: int) -> None:
    """Every request of the chat goes, with its transcript and events (the foreign keys cascade)."""
    session.execute(delete(HandoffRequest).where(HandoffRequest.chat_id == chat_id))


def held_by_nobody(session: Session) -> list[HandoffRequest]:
    """Claimed requests whose mediator was removed (the foreign key set it to NULL)."""
    return list(session.execute(select(HandoffRequest).where(HandoffRequest.status == CLAIMED, HandoffRequest.mediator_id.is_(None))).scalars())


def request_number(text: str, limit: int = 2**31 - 1) -> int | None:
    """A number typed or sent in callback data, if it can be an id at all ("take:<23 digits>" cannot)."""
    text = (text or "").strip()
    if not text.isdigit() or len(text) > len(str(limit)):
        return None
    number = int(text)
    return number if 0 < number <= limit else None


def waiting_requests(session: Session) -> list[HandoffRequest]:
    return list(session.execute(select(HandoffRequest).where(HandoffRequest.status == WAITING).order_by(HandoffRequest.id)).scalars())


def held_requests(session: Session, mediator: Mediator) -> list[HandoffRequest]:
    return list(
        session.execute(
            select(HandoffRequest).where(HandoffRequest.status == CLAIMED, HandoffRequest.mediator_id == mediator.id).order_by(HandoffRequest.id)
        ).scalars()
    )


def request_of_thread(session: Session, thread_id: int) -> HandoffRequest | None:
    return session.execute(select(HandoffRequest).where(HandoffRequest.thread_id == thread_id).order_by(HandoffRequest.id.desc())).scalars().first()
