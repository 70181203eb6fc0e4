"""The handoff and Telegram tables: mediators, newcomers, requests, transcripts, received updates.

They share the knowledge base's metadata (one database, one migration
history in ``bot/knowledge/migrations``). Everything the gateway and the
mediators' work depend on is here, so any process can restart at any moment.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from bot.knowledge.models import Base

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

# What the gateway still has to tell Rasa about a conversation.
RASA_PAUSE = "pause"
RASA_RESUME = "resume"

# Received updates: answered, or kept until the assistant can answer.
UPDATE_DONE = "done"
UPDATE_PENDING = "pending"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Mediator(Base):
    __tablename__ = "mediators"

    id = Column(Integer, primary_key=True)
    telegram_user_id = Column(BigInteger, nullable=False, unique=True)
    name = Column(String(100), nullable=False)  # the first name newcomers see
    languages = Column(JSON, nullable=False)  # ISO 639-1 codes
    # [{"days": ["mon", ...], "opens": "09:00", "closes": "14:00"}], like offices' opening hours
    working_hours = Column(JSON, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Newcomer(Base):
    """A Telegram chat with the assistant: the little the gateway must remember about it."""

    __tablename__ = "newcomers"

    chat_id = Column(BigInteger, primary_key=True)
    language = Column(String(8), nullable=True)  # the language the assistant last wrote in
    language_code = Column(String(16), nullable=True)  # Telegram's interface language
    first_seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # When the newcomer was last told the assistant is unavailable or that they write too fast,
    # so that an outage is announced once, not once per message.
    told_unavailable_at = Column(DateTime(timezone=True), nullable=True)
    told_flood_at = Column(DateTime(timezone=True), nullable=True)

    requests = relationship("HandoffRequest", back_populates="newcomer", cascade="all, delete-orphan", passive_deletes=True)


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    chat_id = Column(BigInteger, ForeignKey("newcomers.chat_id", ondelete="CASCADE"), nullable=False, index=True)
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
    rasa_event_due = Column(String(16), nullable=True)  # RASA_PAUSE / RASA_RESUME not yet delivered
    feedback = Column(String(16), nullable=True)

    newcomer = relationship("Newcomer", back_populates="requests")
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


class GroupMessage(Base):
    """A message in the mediators' group that belongs to a request: announcement, header, relayed or written by the mediator.

    Replying to any of them reaches the request's newcomer (when the group is not a forum).
    """

    __tablename__ = "group_messages"

    chat_id = Column(BigInteger, primary_key=True)
    message_id = Column(BigInteger, primary_key=True)
    request_id = Column(Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), nullable=False, index=True)
    purpose = Column(String(16), nullable=False)  # announcement, header, relay, mediator
    # Telegram lets a bot delete a message for 48 hours: /forget says what it could not delete.
    posted_at = Column(DateTime(timezone=True), nullable=True, default=utcnow)


class ReceivedUpdate(Base):
    """Every Telegram update with a newcomer's message, by id: handled once, and kept until answered."""

    __tablename__ = "received_updates"

    update_id = Column(BigInteger, primary_key=True)
    chat_id = Column(BigInteger, nullable=False, index=True)
    status = Column(String(16), nullable=False, index=True)
    text = Column(Text, nullable=True)  # what goes to Rasa; cleared once answered
    message_metadata = Column(JSON, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class ButtonPayload(Base):
    """Rasa button payloads by a short key: Telegram allows 64 bytes of callback data."""

    __tablename__ = "button_payloads"

    key = Column(String(24), primary_key=True)
    payload = Column(Text, nullable=False)
    # When a keyboard last carried the key: retention counts from there, not from the first use.
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
