"""The Telegram gateway: newcomers' chats ⇄ the assistant (Rasa).

Every update is recorded when it arrives (``bot.telegram.inbox``) and then
handled by exactly one replica, holding the chat's lock (``bot.telegram.replicas``),
so one chat's messages are answered one at a time, in order, whichever
replica received them. A newcomer's message is kept in the database until
the assistant has answered it: when Rasa or the action server is down, the
newcomer is told (once) and a background loop answers the kept messages in
order when the assistant is back. While a mediator holds the conversation,
messages go to the mediator (``bot.telegram.mediation``), never to Rasa.
Commands are in ``bot.telegram.commands``, /mydata and /forget in
``bot.telegram.data_requests``. Message text is never logged at INFO.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Awaitable, Callable

from telegram import Chat, Message, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.channel_protocol import TELEGRAM_CHANNEL
from bot.database.base import utcnow
from bot.handoff import queue
from bot.handoff.models import HandoffRequest
from bot.telegram import inbox, outbox, rendering, replicas
from bot.telegram.assistant import AssistantClient, AssistantSilent, AssistantUnavailable, ReplicaGone, conversation_language
from bot.telegram.config import GatewayConfig
from bot.telegram.data_requests import DataRequests
from bot.telegram.mediation import Mediation
from bot.telegram.messenger import Messenger, language_of, profile
from bot.telegram.models import ReceivedUpdate
from bot.telegram.rendering import HandoffOpened, TextOut, VenueOut
from bot.textfold import without_format_characters
from bot.texts import say

log = logging.getLogger(__name__)

# A message the assistant keeps answering with nothing is given up after this many tries.
MAX_SILENT_ATTEMPTS = 3
HUMAN_PAYLOAD = "/request_human"
# Before asking another replica: long enough for the load balancer to have seen the first one fail.
REPLICA_RETRY_SECONDS = 0.2


class Gateway:
    def __init__(self, config: GatewayConfig, bot: Any = None):
        self.config = config
        self.messenger = Messenger(config, bot)
        self.assistant = AssistantClient(config.rasa_url, config.action_health_url, config.rasa_timeout, config.rasa_token)
        self.locks, self.flood, self.redis = replicas.shared(config.redis_url, config.flood_burst, config.flood_interval)
        self.mediation = Mediation(self.messenger, self.assistant, self.locks)
        self.data_requests = DataRequests(self.messenger, self.assistant, self.mediation, self.locks)
        self._background: asyncio.Task | None = None
        # Set by the application: puts an update a stopped replica left back into PTB's queue.
        self.resubmit: Callable[[dict], None] | None = None

    @property
    def bot(self) -> Any:
        return self.messenger.bot

    @property
    def outbox(self) -> outbox.Outbox:
        return self.messenger.outbox

    @property
    def engine(self):
        return self.messenger.engine

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, bot: Any) -> None:
        self.messenger.bot = bot
        await self.mediation.start()
        self._background = asyncio.create_task(self._run_background(), name="acollida-gateway-background")

    async def stop(self) -> None:
        if self._background is not None:
            self._background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._background
        await self.mediation.stop()
        await self.outbox.stop()  # what is not sent yet stays in the database for the next start
        await self.assistant.close()
        if self.redis is not None:
            await self.redis.close()

    async def _run_background(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # one bad round must not stop the loop that answers kept messages
                log.exception("gateway background round failed")
            await asyncio.sleep(self.config.tick.total_seconds())

    async def tick(self) -> None:
        """Sends what waits in the outbox, takes up what a dead replica left, answers kept messages,
        finishes erasures, delivers handoff events, announces waiting requests."""
        await self.outbox.deliver_due()
        if self.resubmit is not None:
            for raw in await self.messenger.db(inbox.abandoned):
                log.warning("update %s was left unhandled by a gateway that stopped: handled here", raw.get("update_id"))
                self.resubmit(raw)
        for chat_id in await self.messenger.db(inbox.chats_with_pending):
            async with self.locks.hold(chat_id):
                await self.answer_kept_messages(chat_id, flood_limited=True)
        await self.data_requests.tick()
        await self.mediation.tick()

    # --- every update --------------------------------------------------------------------------

    async def record(self, update: Update) -> None:
        """Written down before Telegram is told it arrived (the webhook answers after this)."""
        chat = update.effective_chat
        await self.messenger.db(inbox.record, update.update_id, chat.id if chat else 0, update.to_dict())

    async def process(self, update: object, handling: Awaitable[Any]) -> None:
        """Runs the update's handlers once in all replicas, holding its chat's lock; then answers what it held back."""
        if not isinstance(update, Update):
            await handling
            return
        if not await self.messenger.db(inbox.claim, update.update_id):
            handling.close()  # type: ignore[attr-defined]  # a coroutine never started
            log.info("update %s handled already: ignored", update.update_id)
            return
        chat = update.effective_chat
        if chat is None:
            await handling
        else:
            async with self.locks.hold(chat.id):
                await handling
        await self.messenger.db(inbox.handled, update.update_id)
        if chat is not None and chat.id != self.config.mediator_chat_id and await self.messenger.db(inbox.pending_of, chat.id):
            # A later message waited while this update was handled (on another replica, maybe).
            async with self.locks.hold(chat.id):
                await self.answer_kept_messages(chat.id, flood_limited=True)

    # --- what the newcomer reads ---------------------------------------------------------------

    def put_replies(self, session, chat_id: int, assistant_replies: list[dict[str, Any]], language: str) -> list[int]:
        """Puts the assistant's replies (or the gateway's own, shaped alike) in the outbox; returns the handoffs they open."""
        out = rendering.render(session, assistant_replies)
        opened = []
        for index, item in enumerate(out):
            if isinstance(item, TextOut):
                following = out[index + 1] if index + 1 < len(out) else None
                if isinstance(following, HandoffOpened):
                    item.buttons.append((say("button_back_to_assistant", language), f"cancel:{following.request_id}"))
                outbox.put_text(session, chat_id, item.text, item.buttons)
            elif isinstance(item, VenueOut):
                venue = {"latitude": item.latitude, "longitude": item.longitude, "title": item.title, "address": item.address}
                outbox.put(session, chat_id, outbox.SEND_VENUE, venue)
            elif isinstance(item, HandoffOpened):
                opened.append(item.request_id)
        return opened

    async def show(self, chat_id: int, assistant_replies: list[dict[str, Any]], language: str) -> None:
        """The caller holds the chat's lock."""
        opened = await self.messenger.db(self.put_replies, chat_id, assistant_replies, language)
        await self._sent_then_opened(chat_id, opened)

    async def _sent_then_opened(self, chat_id: int, opened: list[int]) -> None:
        await self.outbox.deliver(chat_id)
        if opened:
            await self.mediation.deliver_events_of(chat_id)

    # --- newcomers' messages -------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        text = message.text if message.chat.type == ChatType.PRIVATE else self._addressed_text(message, context.bot)
        if text:
            await self.receive(update.update_id, message.chat, update.effective_user, text, message)

    def _addressed_text(self, message: Message, bot: Any) -> str | None:
        """In a group, the text when it is meant for the bot (mentions it, or replies to it), else None."""
        mention = f"@{bot.username}"
        if mention.lower() in message.text.lower():
            start = message.text.lower().index(mention.lower())
            return (message.text[:start] + message.text[start + len(mention) :]).strip() or None
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return message.text
        return None

    async def receive(self, update_id: int, chat: Chat, user: User | None, text: str, message: Message | None = None) -> None:
        """A newcomer's text (or button): to the mediator during a handoff, else kept and answered in order.

        The caller holds the chat's lock (every update is handled holding it).
        """
        chat_id = chat.id
        text = without_format_characters(text)
        metadata = {"channel": TELEGRAM_CHANNEL, "chat_id": chat_id, "language_code": user.language_code if user else None}

        def note(session) -> tuple[int | None, bool]:
            found = profile(session, chat_id)
            found.last_seen_at = utcnow()
            if user is not None and user.language_code:
                found.language_code = user.language_code
            request = queue.open_request_of(session, chat_id)
            if request is not None:
                return request.id, False
            inbox.keep(session, update_id, text, metadata)
            return None, inbox.earlier_unanswered(session, chat_id, update_id)

        request_id, held_back = await self.messenger.db(note)
        if request_id is not None:
            await self.mediation.from_newcomer(request_id, message, text)
            return
        if held_back:
            return  # whoever answers the earlier message answers this one after it
        if not await self.flood.allow(chat_id):
            log.info("update %s: its chat is over its flood allowance, the message is kept", update_id)
            await self.messenger.tell_once(chat_id, "told_flood_at", "flood_notice")
            return
        await self.answer_kept_messages(chat_id, flood_limited=False)

    async def answer_kept_messages(self, chat_id: int, flood_limited: bool) -> None:
        """Sends the chat's kept messages to the assistant, oldest first; stops at the first failure.

        The caller holds the chat's lock.
        """

        def kept_messages(session):
            if queue.open_request_of(session, chat_id) is not None:
                return []  # a handoff started meanwhile: these wait until it ends
            kept = []
            for found in inbox.pending_of(session, chat_id):
                if inbox.earlier_in_hand(session, chat_id, found.update_id):
                    break  # an earlier update is still being received or handled (on another replica, maybe)
                kept.append((found.update_id, found.text, found.message_metadata, found.attempts))
            return kept

        for position, (update_id, text, metadata, attempts) in enumerate(await self.messenger.db(kept_messages)):
            if flood_limited or position > 0:
                if not await self.flood.allow(chat_id):
                    return
            try:
                assistant_replies = await self._ask_assistant(chat_id, text, metadata or {})
            except AssistantUnavailable as error:
                log.warning("assistant unavailable for update %s: %s", update_id, error)
                await self.messenger.db(_count_attempt, update_id, attempts + 1)
                if isinstance(error, AssistantSilent) and attempts + 1 >= MAX_SILENT_ATTEMPTS:
                    await self.messenger.db(inbox.answered, update_id)
                    await self.messenger.say_to(chat_id, "not_understood")
                    continue
                await self.messenger.tell_once(chat_id, "told_unavailable_at", "assistant_unavailable")
                return
            language = conversation_language(await self.assistant.tracker(str(chat_id)))

            # Answered and its answer in the outbox in one transaction: from here the answer cannot be lost.
            def answered(session) -> list[int]:
                inbox.answered(session, update_id)
                found = profile(session, chat_id)
                found.told_unavailable_at = None
                found.told_flood_at = None
                if language:
                    found.language = language
                return self.put_replies(session, chat_id, assistant_replies, language_of(session, chat_id))

            opened = await self.messenger.db(answered)
            log.info("update %s answered with %d message(s)", update_id, len(assistant_replies))
            await self._sent_then_opened(chat_id, opened)

    async def _ask_assistant(self, chat_id: int, text: str, metadata: dict) -> list[dict[str, Any]]:
        """Rasa's answer; a conversation Rasa holds paused with no handoff open (the stores disagreed) is resumed first.

        When the replica a request reached went away, the request is made again at
        once (the load balancer picks a live one): the newcomer hears of an outage
        only when the assistant is really down.
        """
        try:
            try:
                return await self.assistant.send(str(chat_id), text, metadata)
            except ReplicaGone as error:
                log.warning("a Rasa replica went away (%s): asking again", error)
                await asyncio.sleep(REPLICA_RETRY_SECONDS)
                return await self.assistant.send(str(chat_id), text, metadata)
        except AssistantSilent:
            tracker = await self.assistant.tracker(str(chat_id))
            in_handoff = await self.messenger.db(lambda session: queue.open_request_of(session, chat_id) is not None)
            if not (tracker or {}).get("paused") or in_handoff:
                raise
            log.warning("a conversation was paused in Rasa without an open handoff: resumed")
            await self.assistant.add_event(str(chat_id), "resume")
            return await self.assistant.send(str(chat_id), text, metadata)

    async def open_request_and_language(self, chat_id: int, user: User | None) -> tuple[int | None, str]:
        def read(session):
            request = queue.open_request_of(session, chat_id)
            return (request.id if request else None), language_of(session, chat_id, user)

        return await self.messenger.db(read)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Anything but text (voice, photos, stickers, dice, stories, polls...): relayed during a handoff, else the bot says it reads text."""
        message = update.effective_message
        if message.chat.type != ChatType.PRIVATE:
            return
        request_id, language = await self.open_request_and_language(message.chat.id, update.effective_user)
        if request_id is not None:
            await self.mediation.from_newcomer(request_id, message, message.caption)
            return
        await self.messenger.send_text(message.chat.id, say("media_not_read", language), [await self.human_button(language)])

    async def human_button(self, language: str) -> tuple[str, str]:
        return say("button_human", language), await self.messenger.db(rendering.payload_key, HUMAN_PAYLOAD)

    # --- buttons -------------------------------------------------------------------------------

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = query.message.chat if query.message else None
        if chat is None:
            await query.answer()
            return
        data = query.data or ""
        kind, _, rest = data.partition(":")
        if data.startswith(rendering.PAYLOAD_PREFIX):
            await self._on_payload_button(update, chat)
        elif kind == "cancel":
            await query.answer()
            if queue.request_number(rest) is not None:
                await self.mediation.cancel_by_newcomer(queue.request_number(rest), chat.id)
        elif kind == "fb":
            await query.answer()
            await self._on_feedback(chat.id, query.message, rest)
        else:
            await query.answer()

    async def _on_payload_button(self, update: Update, chat: Chat) -> None:
        query = update.callback_query

        def read(session):
            return rendering.payload_of(session, query.data), queue.open_request_of(session, chat.id) is not None, language_of(session, chat.id, update.effective_user)

        payload, in_handoff, language = await self.messenger.db(read)
        if in_handoff:
            await query.answer(say("handoff_in_progress", language))
            return
        await query.answer()
        if payload is None:
            return  # a button older than the retention period
        await self._mark_pressed(query.message, query.data)
        await self.receive(update.update_id, chat, update.effective_user, payload)

    async def _mark_pressed(self, message: Message | None, data: str) -> None:
        """Shows which button was pressed and takes the keyboard away, so an old menu is not pressed twice."""
        if message is None or message.reply_markup is None or not message.text:
            return
        title = next((button.text for row in message.reply_markup.inline_keyboard for button in row if button.callback_data == data), None)
        with contextlib.suppress(TelegramError):
            await message.edit_text(f"{message.text}\n\n➤ {title}" if title else message.text, reply_markup=None)

    async def _on_feedback(self, chat_id: int, message: Message | None, answer: str) -> None:
        request_id, _, verdict = answer.partition(":")
        number = queue.request_number(request_id)
        if number is None:
            return

        def note(session) -> bool:
            request = session.get(HandoffRequest, number)
            if request is None or request.chat_id != chat_id:
                return False
            request.feedback = "useful" if verdict == "yes" else "not_useful"
            return True

        if not await self.messenger.db(note):
            return
        if message is not None:
            with contextlib.suppress(TelegramError):
                await message.edit_reply_markup(reply_markup=None)
        await self.messenger.say_to(chat_id, "feedback_thanks")


def _count_attempt(session, update_id: int, attempts: int) -> None:
    found = session.get(ReceivedUpdate, update_id)
    if found is not None:
        found.attempts = attempts
