"""Every message the gateway sends, kept in the database until Telegram accepted it.

A message is put in the outbox in the same transaction as the state change
it tells of (an answered question, a relay recorded in the transcript), then
sent. A refusal Telegram may change its mind about (429 with its
``retry_after``, a 5xx, a network error) leaves it in the outbox, retried with
a growing delay; a refusal it will not change its mind about (the person
blocked the bot, a bad request), or a day of failures, gives it up and tells
whoever must know (the ``given_up`` hook: the mediator, for a relay).

Each chat is its own lane: its messages leave in the order they were put,
one at a time, and lanes run side by side, so the mediators' group (which
Telegram limits to 20 messages a minute) never holds up a newcomer's answer.
Any process may put messages (`acollida mediators remove` does); the
gateway's background loop sends what is due.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Awaitable, Callable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.database.base import as_utc, utcnow
from bot.database.sessions import in_thread
from bot.telegram import rendering
from bot.telegram.models import OutgoingMessage

log = logging.getLogger(__name__)

SEND_MESSAGE = "send_message"
COPY_MESSAGE = "copy_message"
SEND_VENUE = "send_venue"

GIVE_UP_AFTER = dt.timedelta(hours=24)
MAX_BACKOFF_SECONDS = 60.0
# How long a replica may take to send a message it took (PTB's rate limiter may hold it a while).
SENDING_LEASE = dt.timedelta(seconds=60)

# Hooks, set by the mediators' side: where in the group a request's messages go,
# what a posted message means to a handoff, and who must hear of a message given up.
# Placement and Delivered run inside the outbox's own database transaction.
Placement = Callable[[Session, OutgoingMessage], dict[str, Any]]
Delivered = Callable[[Session, OutgoingMessage, Any], None]
GivenUp = Callable[[OutgoingMessage, str], Awaitable[None]]


def put(
    session: Session,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    *,
    request_id: int | None = None,
    purpose: str | None = None,
    transcript_id: int | None = None,
) -> OutgoingMessage:
    row = OutgoingMessage(chat_id=chat_id, method=method, payload=payload, request_id=request_id, purpose=purpose, transcript_id=transcript_id)
    session.add(row)
    session.flush()
    return row


def put_text(
    session: Session,
    chat_id: int,
    text: str,
    buttons: list[tuple[str, str]] | None = None,
    *,
    parse_mode: str | None = None,
    in_request_thread: bool = False,
    **what: Any,
) -> list[OutgoingMessage]:
    """A text in pieces within Telegram's limit; the buttons go with the last piece."""
    pieces = rendering.split_text(text)
    rows = []
    for index, piece in enumerate(pieces):
        payload: dict[str, Any] = {"text": piece}
        if buttons and index == len(pieces) - 1:
            payload["buttons"] = [list(button) for button in buttons]
        if parse_mode:
            payload["parse_mode"] = parse_mode
        if in_request_thread:
            payload["in_request_thread"] = True
        rows.append(put(session, chat_id, SEND_MESSAGE, payload, **what))
    return rows


def forget_chat(session: Session, chat_id: int) -> None:
    """Nothing more is sent to a chat that asked to be forgotten (nor kept about it)."""
    session.execute(delete(OutgoingMessage).where(OutgoingMessage.chat_id == chat_id))


def forget_request(session: Session, request_id: int) -> None:
    session.execute(delete(OutgoingMessage).where(OutgoingMessage.request_id == request_id))


def backoff(attempts: int) -> float:
    """1, 2, 4 ... seconds, at most a minute."""
    return min(MAX_BACKOFF_SECONDS, 2.0 ** max(attempts - 1, 0))


class Outbox:
    def __init__(self, engine: Any, bot: Callable[[], Any]):
        self.engine = engine
        self._bot = bot
        self._placement: Placement = lambda session, row: {}
        self._delivered: Delivered = lambda session, row, sent: None
        self._given_up: GivenUp = _nobody_to_tell
        self._lanes: dict[int, asyncio.Lock] = {}
        self._again: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._timers: dict[int, asyncio.TimerHandle] = {}

    def set_hooks(self, placement: Placement, delivered: Delivered, given_up: GivenUp) -> None:
        self._placement, self._delivered, self._given_up = placement, delivered, given_up

    # --- when to send ------------------------------------------------------------------------

    def kick(self, chat_id: int) -> None:
        """Sends the chat's due messages in the background."""
        task = asyncio.get_running_loop().create_task(self.deliver(chat_id), name=f"acollida-outbox-{chat_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver_due(self) -> None:
        """Every lane with a message due: the background loop's round (messages put by other processes too)."""
        chats = await in_thread(self.engine, _chats_due)
        for chat_id in chats:
            if not self._busy(chat_id):
                self.kick(chat_id)

    def _busy(self, chat_id: int) -> bool:
        lane = self._lanes.get(chat_id)
        return lane is not None and lane.locked()

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _wake_later(self, chat_id: int, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if chat_id in self._timers:
            self._timers.pop(chat_id).cancel()
        self._timers[chat_id] = loop.call_later(max(seconds, 0.05), self._wake, chat_id)

    def _wake(self, chat_id: int) -> None:
        self._timers.pop(chat_id, None)
        self.kick(chat_id)

    # --- sending -----------------------------------------------------------------------------

    async def deliver(self, chat_id: int) -> None:
        """Sends the chat's messages in order until none is due; a failure keeps it and the ones behind it."""
        lane = self._lanes.setdefault(chat_id, asyncio.Lock())
        if lane.locked():
            self._again.add(chat_id)  # the running sender looks again before it stops
        async with lane:
            try:
                while await self._send_next(chat_id) or self._again_for(chat_id):
                    pass
            finally:
                if not lane._waiters:  # type: ignore[attr-defined]  # nobody else queued: the lane can go
                    self._lanes.pop(chat_id, None)

    def _again_for(self, chat_id: int) -> bool:
        if chat_id in self._again:
            self._again.discard(chat_id)
            return True
        return False

    async def _send_next(self, chat_id: int) -> bool:
        """Sends the chat's oldest message if it is due; True when one was sent or given up."""
        found = await in_thread(self.engine, self._next_of, chat_id)
        if found is None:
            return False
        wait, call, row_id, created_at, attempts = found
        if call is None:
            self._wake_later(chat_id, wait)
            return False
        try:
            sent = await call()
        except RetryAfter as error:
            return await self._keep(row_id, attempts, _seconds(error.retry_after), "RetryAfter", created_at)
        except (BadRequest, Forbidden, ChatMigrated) as error:
            # Telegram will not take this message however often it is sent.
            log.warning("Telegram refused an outgoing message for good (%s)", type(error).__name__)
            await self._give_up(row_id, type(error).__name__)
            return True
        except TelegramError as error:  # 5xx, time-outs, the network: later
            return await self._keep(row_id, attempts, backoff(attempts + 1), type(error).__name__, created_at)
        await in_thread(self.engine, self._sent, row_id, sent)
        return True

    def _next_of(self, session: Session, chat_id: int):
        """The chat's oldest message and how long until it is due; a due one is leased to this replica first.

        The lease (one conditional UPDATE) is what keeps two gateway replicas from
        both sending it: the other sees it not due until the lease ends, which
        happens only if this replica dies before Telegram took the message.
        """
        row = session.execute(select(OutgoingMessage).where(OutgoingMessage.chat_id == chat_id).order_by(OutgoingMessage.id).limit(1)).scalars().first()
        if row is None:
            return None
        now = utcnow()
        wait = (as_utc(row.next_attempt_at) - now).total_seconds()
        if wait > 0:
            return wait, None, row.id, as_utc(row.created_at), row.attempts
        leased = session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id == row.id, OutgoingMessage.next_attempt_at == row.next_attempt_at)
            .values(next_attempt_at=now + SENDING_LEASE)
            .execution_options(synchronize_session=False)
        )
        if leased.rowcount != 1:
            return 0.05, None, row.id, as_utc(row.created_at), row.attempts  # another replica took it this instant
        return 0.0, self._call_for(session, row), row.id, as_utc(row.created_at), row.attempts

    def _sent(self, session: Session, row_id: int, sent: Any) -> None:
        row = session.get(OutgoingMessage, row_id)
        if row is not None:
            self._delivered(session, row, sent)
            session.delete(row)

    def _call_for(self, session: Session, row: OutgoingMessage) -> Callable[[], Awaitable[Any]]:
        bot, payload = self._bot(), dict(row.payload)
        where = self._placement(session, row) if payload.pop("in_request_thread", False) else {}
        if row.method == SEND_MESSAGE:
            markup = rendering.keyboard(payload.pop("buttons", None) or [])
            return lambda: bot.send_message(row.chat_id, payload["text"], reply_markup=markup, parse_mode=payload.get("parse_mode"), **where)
        if row.method == COPY_MESSAGE:
            return lambda: bot.copy_message(row.chat_id, payload["from_chat_id"], payload["message_id"], **where)
        if row.method == SEND_VENUE:
            return lambda: bot.send_venue(row.chat_id, payload["latitude"], payload["longitude"], payload["title"], payload["address"], **where)
        raise ValueError(f"unknown outgoing method {row.method!r}")

    async def _keep(self, row_id: int, attempts: int, delay: float, error: str, created_at: dt.datetime) -> bool:
        if utcnow() - created_at > GIVE_UP_AFTER:
            self.kick_give_up(row_id, error)
            return True
        chat_id = await in_thread(self.engine, _postpone, row_id, attempts + 1, error, delay)
        if chat_id is None:
            return True  # erased meanwhile
        log.warning("Telegram did not take an outgoing message (%s): trying again in %.0f s", error, delay)
        self._wake_later(chat_id, delay)
        return False

    def kick_give_up(self, row_id: int, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self._give_up(row_id, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _give_up(self, row_id: int, reason: str) -> None:
        row = await in_thread(self.engine, _take_out, row_id)
        if row is not None:
            await self._given_up(row, reason)


def _chats_due(session: Session) -> list[int]:
    return sorted(set(session.execute(select(OutgoingMessage.chat_id).where(OutgoingMessage.next_attempt_at <= utcnow())).scalars()))


def _postpone(session: Session, row_id: int, attempts: int, error: str, delay: float) -> int | None:
    row = session.get(OutgoingMessage, row_id)
    if row is None:
        return None
    row.attempts, row.last_error = attempts, error
    row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
    return row.chat_id


def _take_out(session: Session, row_id: int) -> OutgoingMessage | None:
    """Removes the message from the outbox; returns it, detached, for whoever must hear of it."""
    row = session.get(OutgoingMessage, row_id)
    if row is None:
        return None
    session.expunge(row)
    session.execute(delete(OutgoingMessage).where(OutgoingMessage.id == row_id))
    return row


async def _nobody_to_tell(row: OutgoingMessage, reason: str) -> None:
    return None


def _seconds(retry_after: Any) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) else float(retry_after)
