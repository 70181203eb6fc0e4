"""The gateway's own tables: chats, received updates, button payloads, its messages in the mediators' group,
what it still has to send, and erasures it still has to finish.

They are declared on the application's base and migrated with every other
table (``bot.database``): one database.
"""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Integer, String, Text

from bot.database.base import Base, utcnow

# Received updates: recorded when they arrive, handled once, and a newcomer's message kept until answered.
UPDATE_RECEIVED = "received"  # recorded on arrival, not handled yet (a replica that died leaves it so)
UPDATE_PENDING = "pending"  # a message waiting for the assistant
UPDATE_DONE = "done"


class ChatProfile(Base):
    """A Telegram chat with the assistant: the little the gateway must remember about it."""

    __tablename__ = "chat_profiles"

    chat_id = Column(BigInteger, primary_key=True)
    language = Column(String(8), nullable=True)  # the language the assistant last wrote in
    language_code = Column(String(16), nullable=True)  # Telegram's interface language
    first_seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # When the newcomer was last told the assistant is unavailable or that they write too fast,
    # so that an outage is announced once, not once per message.
    told_unavailable_at = Column(DateTime(timezone=True), nullable=True)
    told_flood_at = Column(DateTime(timezone=True), nullable=True)


class ReceivedUpdate(Base):
    """Every Telegram update, by id: recorded before Telegram is told it arrived, handled once, kept until answered.

    ``raw`` is the update as Telegram sent it, kept only until it is handled,
    so that another replica can handle it when the one that received it died.
    """

    __tablename__ = "received_updates"

    update_id = Column(BigInteger, primary_key=True)
    chat_id = Column(BigInteger, nullable=False, index=True)
    status = Column(String(16), nullable=False, index=True)
    raw = Column(JSON, nullable=True)
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
