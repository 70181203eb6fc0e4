"""The life of a handoff request: opened, announced, claimed, released or transferred, ended.

Every change is one database statement or transaction, so two mediators
pressing "take" together, or two gateway replicas, cannot both win.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.handoff.models import (
    CANCELLED,
    CLAIMED,
    ENDED,
    OPEN_STATUSES,
    RASA_PAUSE,
    RASA_RESUME,
    WAITING,
    GroupMessage,
    HandoffRequest,
    Mediator,
    Newcomer,
    TranscriptMessage,
    utcnow,
)


def newcomer(session: Session, chat_id: int) -> Newcomer:
    """The chat's profile, created on first contact."""
    found = session.get(Newcomer, chat_id)
    if found is None:
        found = Newcomer(chat_id=chat_id)
        session.add(found)
        session.flush()
    return found


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
    newcomer(session, chat_id)
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
        rasa_event_due=RASA_PAUSE,
    )
    session.add(request)
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
    request.rasa_event_due = RASA_RESUME
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


def with_rasa_event_due(session: Session) -> list[HandoffRequest]:
    return list(session.execute(select(HandoffRequest).where(HandoffRequest.rasa_event_due.is_not(None)).order_by(HandoffRequest.id)).scalars())


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


def remember_group_message(session: Session, chat_id: int, message_id: int, request_id: int, purpose: str) -> None:
    session.merge(GroupMessage(chat_id=chat_id, message_id=message_id, request_id=request_id, purpose=purpose))
    session.flush()


def request_of_group_message(session: Session, chat_id: int, message_id: int) -> HandoffRequest | None:
    """The request a message in the mediators' group belongs to."""
    posted = session.get(GroupMessage, (chat_id, message_id))
    return session.get(HandoffRequest, posted.request_id) if posted is not None else None


def request_of_thread(session: Session, thread_id: int) -> HandoffRequest | None:
    return session.execute(select(HandoffRequest).where(HandoffRequest.thread_id == thread_id).order_by(HandoffRequest.id.desc())).scalars().first()


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored time, timezone-aware."""
    # SQLite returns naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
