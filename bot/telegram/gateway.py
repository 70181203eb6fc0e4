"""The Telegram gateway: newcomers' chats ⇄ the assistant (Rasa), and the handoff to mediators.

Every update is recorded by id before anything else, so a repeated delivery
is handled once. A newcomer's message is kept in the database until the
assistant has answered it: when Rasa or the action server is down, the
newcomer is told (once) and a background loop answers the kept messages in
order when the assistant is back. While a mediator holds the conversation,
messages go to the mediator (``bot.telegram.mediation``), never to Rasa.
Message text is never logged at INFO.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, select

from telegram import Chat, Message, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import privacy, replies
from bot.handoff import queue
from bot.handoff.queue import as_utc
from bot.handoff.models import FROM_NEWCOMER, HandoffRequest, Newcomer, ReceivedUpdate, utcnow
from bot.textfold import without_format_characters
from bot.handoff.protocol import TELEGRAM_CHANNEL
from bot.knowledge import answers
from bot.knowledge.database import engine_for, session_scope
from bot.languages import LINGUA_FRANCA, is_supported, normalise_code
from bot.telegram import inbox, outbox, rendering
from bot.telegram.assistant import AssistantClient, AssistantSilent, AssistantUnavailable, conversation_language
from bot.telegram.config import GatewayConfig
from bot.telegram.mediation import Mediation
from bot.telegram.models import PendingErasure
from bot.telegram.rendering import HandoffOpened, TextOut, VenueOut
from bot.texts import say

log = logging.getLogger(__name__)

# A message the assistant keeps answering with nothing is given up after this many tries.
MAX_SILENT_ATTEMPTS = 3
HUMAN_PAYLOAD = "/request_human"


class Gateway:
    def __init__(self, config: GatewayConfig, bot: Any = None):
        self.config = config
        self.engine = engine_for(config.database_url)
        self.assistant = AssistantClient(config.rasa_url, config.action_health_url, config.rasa_timeout, config.rasa_token)
        self.flood = inbox.FloodLimit(config.flood_burst, config.flood_interval)
        self.mediation = Mediation(self)
        self.outbox = outbox.Outbox(self.engine, lambda: self.bot, self.mediation.placement, self.mediation.delivered, self.mediation.given_up)
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._background: asyncio.Task | None = None

    def session(self):
        return session_scope(self.engine)

    def chat_lock(self, chat_id: int) -> asyncio.Lock:
        """One message at a time per chat, so answers keep the order of questions; chats run side by side."""
        return self._locks[chat_id]

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, bot: Any) -> None:
        self.bot = bot
        await self.mediation.start()
        self._background = asyncio.create_task(self._run_background(), name="acollida-gateway-background")

    async def stop(self) -> None:
        if self._background is not None:
            self._background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._background
        await self.outbox.stop()  # what is not sent yet stays in the database for the next start
        await self.assistant.close()

    async def _run_background(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # one bad round must not stop the loop that answers kept messages
                log.exception("gateway background round failed")
            await asyncio.sleep(self.config.tick.total_seconds())

    async def tick(self) -> None:
        """Sends what waits in the outbox, answers kept messages, finishes erasures, tells Rasa about handoffs, announces waiting requests."""
        await self.outbox.deliver_due()
        with self.session() as session:
            chats = inbox.chats_with_pending(session)
            erasures = [(erasure.chat_id, erasure.language) for erasure in session.execute(select(PendingErasure)).scalars()]
        for chat_id in chats:
            async with self.chat_lock(chat_id):
                await self.answer_kept_messages(chat_id, flood_limited=True)
        for chat_id, language in erasures:
            async with self.chat_lock(chat_id):
                await self._finish_erasure(chat_id, language)
        await self.mediation.tick()

    # --- what the newcomer reads ---------------------------------------------------------------

    def language_of(self, session, chat_id: int, user: User | None = None) -> str:
        """The language the assistant last wrote in, else the app's language, else English."""
        profile = session.get(Newcomer, chat_id)
        if profile is not None and profile.language:
            return profile.language
        for code in (user.language_code if user else None, profile.language_code if profile else None):
            if is_supported(normalise_code(code)):
                return normalise_code(code)
        return LINGUA_FRANCA

    async def send_text(self, chat_id: int, text: str, buttons: list[tuple[str, str]] | None = None) -> None:
        """Puts the text in the outbox and sends it; Telegram's refusals are retried there."""
        with self.session() as session:
            outbox.put_text(session, chat_id, text, buttons)
        await self.outbox.deliver(chat_id)

    async def say_to(self, chat_id: int, key: str, buttons: list[tuple[str, str]] | None = None, **values: Any) -> None:
        with self.session() as session:
            language = self.language_of(session, chat_id)
        await self.send_text(chat_id, say(key, language, **values), buttons)

    async def _tell_once(self, chat_id: int, marker: str, key: str) -> None:
        """Tells the newcomer something about the service (down, too fast) once until it changes."""
        with self.session() as session:
            profile = queue.newcomer(session, chat_id)
            if getattr(profile, marker) is not None:
                return
            setattr(profile, marker, utcnow())
        await self.say_to(chat_id, key)

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
        with self.session() as session:
            opened = self.put_replies(session, chat_id, assistant_replies, language)
        await self._sent_then_opened(chat_id, opened)

    async def _sent_then_opened(self, chat_id: int, opened: list[int]) -> None:
        await self.outbox.deliver(chat_id)
        for request_id in opened:
            await self.mediation.opened(request_id)

    # --- newcomers' messages -------------------------------------------------------------------

    async def record_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """First handler of every update: a repeated delivery stops here."""
        chat = update.effective_chat
        with self.session() as session:
            if not inbox.first_delivery(session, update.update_id, chat.id if chat else 0):
                log.info("update %s delivered again: ignored", update.update_id)
                raise ApplicationHandlerStop

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
        chat_id = chat.id
        text = without_format_characters(text)
        metadata = {"channel": TELEGRAM_CHANNEL, "chat_id": chat_id, "language_code": user.language_code if user else None}
        async with self.chat_lock(chat_id):
            with self.session() as session:
                profile = queue.newcomer(session, chat_id)
                profile.last_seen_at = utcnow()
                if user is not None and user.language_code:
                    profile.language_code = user.language_code
                request = queue.open_request_of(session, chat_id)
                request_id = request.id if request else None
                if request is None:
                    inbox.keep(session, update_id, text, metadata)
                    earlier_waiting = len(inbox.pending_of(session, chat_id)) > 1
            if request_id is not None:
                await self.mediation.from_newcomer(request_id, message, text)
                return
            if earlier_waiting:
                return  # the background loop answers in order
            if not self.flood.allow(chat_id):
                log.info("update %s: its chat is over its flood allowance, the message is kept", update_id)
                await self._tell_once(chat_id, "told_flood_at", "flood_notice")
                return
            await self.answer_kept_messages(chat_id, flood_limited=False)

    async def answer_kept_messages(self, chat_id: int, flood_limited: bool) -> None:
        """Sends the chat's kept messages to the assistant, oldest first; stops at the first failure.

        The caller holds the chat's lock.
        """
        with self.session() as session:
            kept = [(update.update_id, update.text, update.message_metadata, update.attempts) for update in inbox.pending_of(session, chat_id)]
            in_handoff = queue.open_request_of(session, chat_id) is not None
        if in_handoff:
            return  # a handoff started meanwhile: these wait until it ends
        for position, (update_id, text, metadata, attempts) in enumerate(kept):
            if flood_limited or position > 0:
                if not self.flood.allow(chat_id):
                    return
            try:
                assistant_replies = await self._ask_assistant(chat_id, text, metadata or {})
            except AssistantUnavailable as error:
                log.warning("assistant unavailable for update %s: %s", update_id, error)
                with self.session() as session:
                    session.get(ReceivedUpdate, update_id).attempts = attempts + 1
                if isinstance(error, AssistantSilent) and attempts + 1 >= MAX_SILENT_ATTEMPTS:
                    with self.session() as session:
                        inbox.answered(session, update_id)
                    await self.say_to(chat_id, "not_understood")
                    continue
                await self._tell_once(chat_id, "told_unavailable_at", "assistant_unavailable")
                return
            language = conversation_language(await self.assistant.tracker(str(chat_id)))
            # Answered and its answer in the outbox in one transaction: from here the answer cannot be lost.
            with self.session() as session:
                inbox.answered(session, update_id)
                profile = queue.newcomer(session, chat_id)
                profile.told_unavailable_at = None
                profile.told_flood_at = None
                if language:
                    profile.language = language
                language = self.language_of(session, chat_id)
                opened = self.put_replies(session, chat_id, assistant_replies, language)
            log.info("update %s answered with %d message(s)", update_id, len(assistant_replies))
            await self._sent_then_opened(chat_id, opened)

    async def _ask_assistant(self, chat_id: int, text: str, metadata: dict) -> list[dict[str, Any]]:
        """Rasa's answer; a conversation Rasa holds paused with no handoff open (the stores disagreed) is resumed first."""
        try:
            return await self.assistant.send(str(chat_id), text, metadata)
        except AssistantSilent:
            tracker = await self.assistant.tracker(str(chat_id))
            with self.session() as session:
                in_handoff = queue.open_request_of(session, chat_id) is not None
            if not (tracker or {}).get("paused") or in_handoff:
                raise
            log.warning("a conversation was paused in Rasa without an open handoff: resumed")
            await self.assistant.add_event(str(chat_id), "resume")
            return await self.assistant.send(str(chat_id), text, metadata)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Anything but text (voice, photos, stickers, dice, stories, polls...): relayed during a handoff, else the bot says it reads text."""
        message = update.effective_message
        if message.chat.type != ChatType.PRIVATE:
            return
        chat_id = message.chat.id
        with self.session() as session:
            request = queue.open_request_of(session, chat_id)
            request_id = request.id if request else None
            language = self.language_of(session, chat_id, update.effective_user)
        if request_id is not None:
            await self.mediation.from_newcomer(request_id, message, message.caption)
            return
        human = self._human_button(language)
        await self.send_text(chat_id, say("media_not_read", language), [human])

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command the bot does not know: the mediator reads it during a handoff; otherwise the person is told what there is."""
        message = update.effective_message
        chat = message.chat
        if chat.type != ChatType.PRIVATE and not self._addressed_command(message, context.bot):
            return  # a command for another bot in the group
        with self.session() as session:
            request = queue.open_request_of(session, chat.id)
            request_id = request.id if request else None
            language = self.language_of(session, chat.id, update.effective_user)
        if request_id is not None:
            await self.mediation.from_newcomer(request_id, message, message.text)
            return
        await self.send_text(chat.id, say("unknown_command", language), [self._human_button(language)])

    @staticmethod
    def _addressed_command(message: Message, bot: Any) -> bool:
        first = (message.text or "").split(maxsplit=1)[0] if message.text else ""
        return first.lower().endswith(f"@{bot.username}".lower())

    def _human_button(self, language: str) -> tuple[str, str]:
        with self.session() as session:
            return say("button_human", language), rendering.payload_key(session, HUMAN_PAYLOAD)

    # --- commands ------------------------------------------------------------------------------

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        with self.session() as session:
            queue.newcomer(session, chat_id)
            language = self.language_of(session, chat_id, update.effective_user)
            territory = answers.territory_name(session)
        await self.send_text(chat_id, say("greet", language, territory=territory))
        await self.send_text(chat_id, say("welcome_privacy", language, days=self.config.retention_days))
        await self.show(chat_id, [replies.language_menu(language)], language)

    async def on_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        with self.session() as session:
            language = self.language_of(session, chat_id, update.effective_user)
        await self.show(chat_id, [replies.language_menu(language)], language)

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        with self.session() as session:
            language = self.language_of(session, chat_id, update.effective_user)
        await self.send_text(chat_id, say("help", language), [self._human_button(language)])

    async def on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Asks the assistant for a person, so the conversation's language, topic and town go with the request."""
        chat = update.effective_chat
        with self.session() as session:
            in_handoff = queue.open_request_of(session, chat.id) is not None
        if in_handoff:
            await self.say_to(chat.id, "handoff_in_progress")
            return
        await self.receive(update.update_id, chat, update.effective_user, HUMAN_PAYLOAD)

    async def _private_only(self, update: Update) -> bool:
        """In a group the conversation is the whole group's: one member must not see or erase another's words."""
        chat = update.effective_chat
        if chat.type == ChatType.PRIVATE:
            return False
        with self.session() as session:
            language = self.language_of(session, chat.id, update.effective_user)
        await self.send_text(chat.id, say("privacy_private_only", language))
        return True

    async def on_mydata(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Everything kept about the person: the profile, what they wrote to the assistant, their handoffs' messages."""
        if await self._private_only(update):
            return
        chat_id = update.effective_chat.id
        with self.session() as session:
            language = self.language_of(session, chat_id, update.effective_user)
            profile = session.get(Newcomer, chat_id)
            requests = len(profile.requests) if profile else 0
            first_seen = profile.first_seen_at.date().isoformat() if profile else "-"
            # 🙋 what they wrote, 👤 what a mediator wrote to them
            handoff_lines = [
                (as_utc(message.created_at), f"{'🙋' if message.author == FROM_NEWCOMER else '👤'} {message.text}")
                for request in (profile.requests if profile else [])
                for message in request.messages
                if message.text
            ]
        messages = await self._messages_to_the_assistant(chat_id)
        if profile is None and not messages:
            await self.send_text(chat_id, say("mydata_nothing", language))
            return
        await self.send_text(
            chat_id,
            say("mydata_summary", language, language=language, first_seen=first_seen, messages=len(messages), requests=requests, days=self.config.retention_days),
        )
        lines = sorted([(moment, f"🙋 {text}") for moment, text in messages] + handoff_lines, key=lambda line: line[0])
        if lines:
            await self.send_text(chat_id, say("mydata_messages", language) + "\n" + "\n".join(f"{moment:%Y-%m-%d %H:%M} {text}" for moment, text in lines))

    async def _messages_to_the_assistant(self, chat_id: int) -> list[tuple[Any, str]]:
        """What the person wrote to the assistant, as Rasa itself returns it; from its store when Rasa is down."""
        tracker = await self.assistant.tracker(str(chat_id), with_events=True)
        if tracker is None:
            return privacy.user_messages(self.config.tracker_database_url, str(chat_id))
        return privacy.user_messages_in(tracker)

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._private_only(update):
            return
        chat_id = update.effective_chat.id
        with self.session() as session:
            language = self.language_of(session, chat_id, update.effective_user)
        buttons = [(say("button_yes", language), "forget:yes"), (say("button_no", language), "forget:no")]
        await self.send_text(chat_id, say("forget_confirm", language), buttons)

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
        elif kind == "forget":
            await query.answer()
            if chat.type == ChatType.PRIVATE:
                await self._on_forget_answer(chat.id, query.message, rest == "yes")
        else:
            await query.answer()

    async def _on_payload_button(self, update: Update, chat: Chat) -> None:
        query = update.callback_query
        with self.session() as session:
            payload = rendering.payload_of(session, query.data)
            in_handoff = queue.open_request_of(session, chat.id) is not None
            language = self.language_of(session, chat.id, update.effective_user)
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
        if queue.request_number(request_id) is None:
            return
        with self.session() as session:
            request = session.get(HandoffRequest, queue.request_number(request_id))
            if request is None or request.chat_id != chat_id:
                return
            request.feedback = "useful" if verdict == "yes" else "not_useful"
        if message is not None:
            with contextlib.suppress(TelegramError):
                await message.edit_reply_markup(reply_markup=None)
        await self.say_to(chat_id, "feedback_thanks")

    async def _on_forget_answer(self, chat_id: int, message: Message | None, confirmed: bool) -> None:
        with self.session() as session:
            language = self.language_of(session, chat_id)
        if message is not None:
            with contextlib.suppress(TelegramError):
                await message.edit_reply_markup(reply_markup=None)
        if not confirmed:
            await self.send_text(chat_id, say("forget_kept", language))
            return
        async with self.chat_lock(chat_id):
            with self.session() as session:
                session.merge(PendingErasure(chat_id=chat_id, language=language, requested_at=utcnow(), attempts=0))
            await self._finish_erasure(chat_id, language, first_attempt=True)

    async def _finish_erasure(self, chat_id: int, language: str, first_attempt: bool = False) -> None:
        """Erases the person everywhere, then checks: "done" is said only once Rasa itself returns nothing of them.

        Until then the erasure stays pending and the background loop tries
        again; the person is told so. The caller holds the chat's lock.
        """
        with self.session() as session:
            erasure = session.get(PendingErasure, chat_id)
            if erasure is None:
                return
            erasure.attempts += 1
            before = as_utc(erasure.requested_at).timestamp()
        not_deleted = await self.mediation.person_erased(chat_id)
        if not_deleted:
            with self.session() as session:
                session.get(PendingErasure, chat_id).not_deleted += not_deleted
        privacy.forget_conversation(self.config.tracker_database_url, str(chat_id), before=before)
        with self.session() as session:
            profile = session.get(Newcomer, chat_id)
            if profile is not None:
                session.delete(profile)
            inbox.forget_chat(session, chat_id)
            outbox.forget_chat(session, chat_id)
        erased = privacy.erased_in_rasa(await self.assistant.tracker(str(chat_id), with_events=True), before)
        erased = erased and not privacy.user_messages(self.config.tracker_database_url, str(chat_id), before=before)
        if not erased:
            log.warning("an erasure could not be checked through Rasa yet: it stays pending")
            if first_attempt:
                await self.send_text(chat_id, say("forget_pending", language))
            return
        with self.session() as session:
            not_deleted = session.get(PendingErasure, chat_id).not_deleted
            session.execute(delete(PendingErasure).where(PendingErasure.chat_id == chat_id))
        log.info("a conversation was erased on request and checked")
        if not_deleted:
            await self.send_text(chat_id, say("forget_done_partial", language, count=not_deleted))
        else:
            await self.send_text(chat_id, say("forget_done", language))
