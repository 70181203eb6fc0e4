"""The gateway's own tables: what it still has to send, and erasures it still has to finish.

They share the application's metadata and migrations (one database).
"""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, String

from bot.handoff.models import utcnow
from bot.knowledge.models import Base


class OutgoingMessage(Base):
    """A message to Telegram, kept until Telegram accepted it; a chat's messages leave in ``id`` order.

    ``purpose`` and ``request_id`` say what the message is to a handoff (an
    announcement, a relay...), so that once it is posted its Telegram id can be
    remembered; ``transcript_id`` is the transcript entry it relays.
    """

    __tablename__ = "outgoing_messages"

    id = Column(Integer, primary_key=True)
    chat_id = Column(BigInteger, nullable=False, index=True)
    method = Column(String(24), nullable=False)  # send_message, copy_message, send_venue
    payload = Column(JSON, nullable=False)
    request_id = Column(Integer, nullable=True, index=True)
    purpose = Column(String(16), nullable=True)
    transcript_id = Column(Integer, nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    last_error = Column(String(64), nullable=True)  # the error's type, never its text


class PendingErasure(Base):
    """A /forget that could not be finished and checked yet (Rasa unreachable): retried until it is."""

    __tablename__ = "pending_erasures"

    chat_id = Column(BigInteger, primary_key=True)
    language = Column(String(8), nullable=False)  # to tell the person, once done
    requested_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
    not_deleted = Column(Integer, nullable=False, default=0)  # its messages in the mediators' group the bot could not delete
