"""The handoff's tables: mediators, requests, their transcripts, and what the gateway must still do about them.

A request names its Telegram chat by id only: the chat's profile is the
gateway's (``bot.telegram.models``), and the action server, which opens
requests, never touches it. Everything the mediators' work depends on is
here, so any process can restart at any moment.
"""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from bot.database.base import Base, utcnow

# Why a request was opened.
REASON_ASKED = "asked"
REASON_FAILURES = "failures"
REASON_SENSITIVE = "sensitive"
REASON_UNSUPPORTED_LANGUAGE = "unsupported_language"
REASONS = (REASON_ASKED, REASON_FAILURES, REASON_SENSITIVE, REASON_UNSUPPORTED_LANGUAGE)

# A request waits in the queue, is held by one mediator, then ends (or the newcomer cancels it).
WAITING = "waiting"
CLAIMED = "claimed"
ENDED = "ended"
CANCELLED = "cancelled"
OPEN_STATUSES = (WAITING, CLAIMED)

# Who wrote a transcript entry.
FROM_NEWCOMER = "newcomer"
FROM_MEDIATOR = "mediator"

# What a handoff event asks of the gateway (see HandoffEvent).
EVENT_OPENED = "opened"  # pause the assistant for the conversation, then announce the request
EVENT_CLOSED = "closed"  # the assistant takes the conversation back


class Mediator(Base):
    __tablename__ = "mediators"

    id = Column(Integer, primary_key=True)
    telegram_user_id = Column(BigInteger, nullable=False, unique=True)
    name = Column(String(100), nullable=False)  # the first name newcomers see
    languages = Column(JSON, nullable=False)  # ISO 639-1 codes
    # [{"days": ["mon", ...], "opens": "09:00", "closes": "14:00"}], like offices' opening hours
    working_hours = Column(JSON, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    chat_id = Column(BigInteger, nullable=False, index=True)  # the Telegram chat
    sender_id = Column(String(100), nullable=False)  # the Rasa conversation
    language = Column(String(8), nullable=False)  # "und" when the bot could not tell
    topic = Column(String(64), nullable=True)
    municipality = Column(String(64), nullable=True)
    reason = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False, default=WAITING, index=True)
    mediator_id = Column(Integer, ForeignKey("mediators.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    announced_at = Column(DateTime(timezone=True), nullable=True)
    announcements = Column(Integer, nullable=False, default=0)
    claimed_at = Column(DateTime(timezone=True), nullable=True)
    ended_at = Column(DateTime(timezone=True), nullable=True)
    thread_id = Column(BigInteger, nullable=True)  # forum topic in the mediators' group
    feedback = Column(String(16), nullable=True)

    mediator = relationship("Mediator")
    messages = relationship(
        "TranscriptMessage", back_populates="request", cascade="all, delete-orphan", passive_deletes=True, order_by="TranscriptMessage.id"
    )


class TranscriptMessage(Base):
    """One message of a handoff, either way; ``group_message_id`` is where it is in the mediators' group."""

    __tablename__ = "transcript_messages"

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(16), nullable=False)
    kind = Column(String(16), nullable=False)  # text, photo, voice, document, sticker, ...
    text = Column(Text, nullable=True)  # the text or caption
    chat_message_id = Column(BigInteger, nullable=True)  # the newcomer's message, to copy media to the group later
    group_message_id = Column(BigInteger, nullable=True)
    relayed = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    request = relationship("HandoffRequest", back_populates="messages")


class HandoffEvent(Base):
    """The outbox from whoever changes a handoff to the gateway, which acts on it.

    The action server opens a request (``opened``); the gateway, a mediator or
    `acollida mediators remove` ends one (``closed``). Each event is written in
    the same transaction as the change, so it cannot be lost; the gateway
    (any replica) delivers it, pausing or resuming the conversation in Rasa and
    announcing an opened request, and deletes it once Rasa took it. Events of
    one request are delivered in ``id`` order.
    """

    __tablename__ = "handoff_events"

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)  # EVENT_OPENED, EVENT_CLOSED
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
