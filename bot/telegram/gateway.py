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

from telegram import Chat, Message, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import privacy, replies
from bot.handoff import queue
from bot.handoff.queue import as_utc
from bot.handoff.models import FROM_NEWCOMER, HandoffRequest, Newcomer, ReceivedUpdate, utcnow
from bot.handoff.protocol import TELEGRAM_CHANNEL
from bot.knowledge import answers
from bot.knowledge.database import engine_for, session_scope
from bot.languages import LINGUA_FRANCA, is_supported, normalise_code
from bot.telegram import inbox, rendering
from bot.telegram.assistant import AssistantClient, AssistantSilent, AssistantUnavailable, conversation_language
from bot.telegram.config import GatewayConfig
from bot.telegram.mediation import Mediation
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
        await self.assistant.close()

    async def _run_background(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # one bad round must not stop the loop that answers kept messages
                log.exception("gateway background round failed")
            await asyncio.sleep(self.config.tick.total_seconds())

    async def tick(self) -> None:
        """Answers kept messages, tells Rasa about handoffs, announces waiting requests."""
        with self.session() as session:
            chats = inbox.chats_with_pending(session)
        for chat_id in chats:
            async with self.chat_lock(chat_id):
                await self.answer_kept_messages(chat_id, flood_limited=True)
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

    async def send_text(self, chat_id: int, text: str, buttons: list[tuple[str, str]] | None = None, **where: Any) -> list[Message]:
        sent = []
        pieces = rendering.split_text(text)
        for index, piece in enumerate(pieces):
            markup = rendering.keyboard(buttons or []) if index == len(pieces) - 1 else None
            try:
                sent.append(await self.bot.send_message(chat_id, piece, reply_markup=markup, **where))
            except TelegramError as error:
                log.warning("could not send to chat %s: %s", chat_id, type(error).__name__)
        return sent

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

    async def show(self, chat_id: int, assistant_replies: list[dict[str, Any]], language: str) -> None:
        """Sends the assistant's replies (or the gateway's own, shaped alike)."""
        with self.session() as session:
            out = rendering.render(session, assistant_replies)
        for index, item in enumerate(out):
            if isinstance(item, TextOut):
                following = out[index + 1] if index + 1 < len(out) else None
                if isinstance(following, HandoffOpened):
                    item.buttons.append((say("button_back_to_assistant", language), f"cancel:{following.request_id}"))
                await self.send_text(chat_id, item.text, item.buttons)
            elif isinstance(item, VenueOut):
                try:
                    await self.bot.send_venue(chat_id, item.latitude, item.longitude, item.title, item.address)
                except TelegramError as error:
                    log.warning("could not send a venue to chat %s: %s", chat_id, type(error).__name__)
            elif isinstance(item, HandoffOpened):
                await self.mediation.opened(item.request_id)

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
                log.info("chat %s over its flood allowance: message kept", chat_id)
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
                assistant_replies = await self.assistant.send(str(chat_id), text, metadata or {})
            except AssistantUnavailable as error:
                log.warning("assistant unavailable for chat %s: %s", chat_id, error)
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
            with self.session() as session:
                inbox.answered(session, update_id)
                profile = queue.newcomer(session, chat_id)
                profile.told_unavailable_at = None
                profile.told_flood_at = None
                if language:
                    profile.language = language
                language = self.language_of(session, chat_id)
            log.info("chat %s: update %s answered with %d message(s)", chat_id, update_id, len(assistant_replies))
            await self.show(chat_id, assistant_replies, language)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Voice, photos, documents, stickers: relayed during a handoff, else the bot says it reads text."""
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

    async def on_mydata(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Everything kept about the person: the profile, what they wrote to the assistant, their handoffs' messages."""
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
        messages = privacy.user_messages(self.config.tracker_database_url, str(chat_id))
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

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
            await self.mediation.cancel_by_newcomer(int(rest), chat.id)
        elif kind == "fb":
            await query.answer()
            await self._on_feedback(chat.id, query.message, rest)
        elif kind == "forget":
            await query.answer()
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
        with self.session() as session:
            request = session.get(HandoffRequest, int(request_id))
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
            await self.mediation.person_erased(chat_id)
            privacy.forget_conversation(self.config.tracker_database_url, str(chat_id))
            with self.session() as session:
                profile = session.get(Newcomer, chat_id)
                if profile is not None:
                    session.delete(profile)
                inbox.forget_chat(session, chat_id)
        log.info("chat %s erased on request", chat_id)
        await self.send_text(chat_id, say("forget_done", language))

