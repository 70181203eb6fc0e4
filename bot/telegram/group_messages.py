"""The bot's messages in the mediators' group and the request each belongs to, so that a reply reaches its newcomer."""
from __future__ import annotations

from sqlalchemy.orm import Session

from bot.handoff.models import HandoffRequest
from bot.telegram.models import GroupMessage

# What a group message is to its request.
ANNOUNCEMENT = "announcement"
HEADER = "header"
RELAY = "relay"
FROM_MEDIATOR = "mediator"


def remember(session: Session, chat_id: int, message_id: int, request_id: int, purpose: str) -> None:
    session.merge(GroupMessage(chat_id=chat_id, message_id=message_id, request_id=request_id, purpose=purpose))
    session.flush()


def request_of(session: Session, chat_id: int, message_id: int) -> HandoffRequest | None:
    """The request a message in the mediators' group belongs to."""
    posted = session.get(GroupMessage, (chat_id, message_id))
    return session.get(HandoffRequest, posted.request_id) if posted is not None else None
