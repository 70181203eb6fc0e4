"""The mediators' side of a handoff, in their Telegram group.

A request is announced in the group with its language, topic, town and the
last messages, naming the mediators who speak the language; "Take" claims it
(exactly once: ``bot.handoff.queue.claim`` is one conditional UPDATE). The
holder talks with the newcomer in a forum topic of their own when the group
is a forum, otherwise by replying to the conversation's messages in the
group. /end, /release and /transfer (or the buttons) hand it on. Only
registered mediators can claim or write to a newcomer, and only the holder
writes to that newcomer. What mediators read here is for staff, in English.
"""
from __future__ import annotations

import asyncio
import html
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from telegram import Message, ReplyParameters, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.handoff import availability, mediators, queue
from bot.handoff.models import CANCELLED, CLAIMED, FROM_MEDIATOR, FROM_NEWCOMER, GroupMessage, HandoffRequest, Mediator, utcnow
from bot.languages import LANGUAGES_BY_CODE
from bot.texts import say
from bot.telegram.assistant import AssistantUnavailable, recent_lines
from bot.telegram.rendering import keyboard

if TYPE_CHECKING:
    from bot.telegram.gateway import Gateway

log = logging.getLogger(__name__)

RECENT_LINES_ANNOUNCED = 6
ANNOUNCEMENT = "announcement"
HEADER = "header"
RELAY = "relay"


def describe(request: HandoffRequest) -> str:
    language = LANGUAGES_BY_CODE.get(request.language)
    language_text = f"{request.language} ({language.english_name})" if language else request.language
    parts = [f"#{request.id}", language_text, f"topic: {request.topic or '-'}", f"town: {request.municipality or '-'}", f"reason: {request.reason}"]
    return " · ".join(parts)


def mention(mediator: Mediator) -> str:
    return f'<a href="tg://user?id={mediator.telegram_user_id}">{html.escape(mediator.name)}</a>'


class Mediation:
    def __init__(self, gateway: "Gateway"):
        self.gateway = gateway
        self.group_is_forum = False
        # One delivery at a time: a second one running beside it (the tick loop's)
        # could still be inside Rasa when /forget erases the conversation, and
        # Rasa would then save the whole tracker it had read back into the store.
        self._delivering_rasa_events = asyncio.Lock()

    @property
    def group(self) -> int | None:
        return self.gateway.config.mediator_chat_id

    @property
    def bot(self) -> Any:
        return self.gateway.bot

    async def start(self) -> None:
        if self.group is None:
            return
        try:
            self.group_is_forum = bool((await self.bot.get_chat(self.group)).is_forum)
        except TelegramError as error:
            log.warning("cannot read the mediators' group %s: %s", self.group, type(error).__name__)

    async def _post(self, text: str, request: HandoffRequest | None = None, **extra: Any) -> Message | None:
        """Posts in the mediators' group: in the request's topic or thread when it has one."""
        if self.group is None:
            log.warning("no mediators' group configured (TELEGRAM_MEDIATOR_CHAT_ID): cannot tell mediators")
            return None
        try:
            return await self.bot.send_message(self.group, text, parse_mode="HTML", **self._where(request), **extra)
        except TelegramError as error:
            log.warning("could not post in the mediators' group: %s", type(error).__name__)
            return None

    def _where(self, request: HandoffRequest | None) -> dict[str, Any]:
        if request is None or request.status != CLAIMED:
            return {}
        if request.thread_id:
            return {"message_thread_id": request.thread_id}
        with self.gateway.session() as session:
            header = session.execute(
                select(GroupMessage).where(GroupMessage.chat_id == self.group, GroupMessage.request_id == request.id, GroupMessage.purpose == HEADER).order_by(GroupMessage.message_id.desc())
            ).scalars().first()
        return {"reply_parameters": ReplyParameters(header.message_id, allow_sending_without_reply=True)} if header else {}

    def _remember(self, message: Any, request_id: int, purpose: str) -> None:
        """Notes that a group message belongs to the request, so that replying to it reaches the newcomer."""
        if message is not None and self.group is not None:
            with self.gateway.session() as session:
                queue.remember_group_message(session, self.group, message.message_id, request_id, purpose)

    # --- the queue -----------------------------------------------------------------------------

    async def opened(self, request_id: int) -> None:
        """The assistant opened a request: pause it for this conversation and tell the mediators."""
        await self.deliver_rasa_events()
        await self.announce(request_id)

    async def announce(self, request_id: int, inform_newcomer: bool = True) -> None:
        """Posts the request in the mediators' group, unless it is not due (claimed, or announced a moment ago)."""
        with self.gateway.session() as session:
            if not queue.take_announcement(session, request_id, utcnow(), self.gateway.config.reannounce_every):
                return
            request = session.get(HandoffRequest, request_id)
            session.refresh(request)
            sender_id, again = request.sender_id, request.announcements > 1
        tracker_lines = recent_lines(await self.gateway.assistant.tracker(sender_id, with_events=True), RECENT_LINES_ANNOUNCED)
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            speakers = mediators.speakers_of(session, request.language)
            on_duty = mediators.on_duty(speakers, utcnow())
            lines = [f"{'🔁 Still waiting' if again else '🆕 New request'} {html.escape(describe(request))}"]
            lines.append("Speak the language: " + (", ".join(mention(m) for m in speakers) if speakers else "nobody registered; anyone can take it"))
            if speakers and not on_duty:
                lines.append("(none of them is on duty now)")
            recent = [(("👤" if who == "user" else "🤖"), text) for who, text in tracker_lines]
            recent += [("👤", message.text if message.kind == "text" else f"[{message.kind}] {message.text or ''}".strip()) for message in request.messages]
            if recent:
                lines.append("Last messages:")
                lines += [f"{icon} {html.escape(text[:300])}" for icon, text in recent[-RECENT_LINES_ANNOUNCED:]]
        posted = await self._post("\n".join(lines), reply_markup=keyboard([(f"Take #{request_id}", f"take:{request_id}")]))
        self._remember(posted, request_id, ANNOUNCEMENT)
        log.info("request %s announced", request_id)
        if again and inform_newcomer:
            await self._keep_newcomer_informed(request_id)

    async def _keep_newcomer_informed(self, request_id: int) -> None:
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            chat_id = request.chat_id
            language = self.gateway.language_of(session, chat_id)
            waiting = availability.waiting_sentence(session, language, utcnow())
        text = say("handoff_still_waiting", language) + (f"\n{waiting}" if waiting else "")
        await self.gateway.send_text(chat_id, text, [(say("button_back_to_assistant", language), f"cancel:{request_id}")])

    async def tick(self) -> None:
        await self.deliver_rasa_events()
        now = utcnow()
        with self.gateway.session() as session:
            due = queue.due_for_announcement(session, now, self.gateway.config.reannounce_every)
            anyone_on_duty = bool(mediators.on_duty(mediators.all_mediators(session), now))
            # Outside everyone's hours a request is announced once, then again when someone starts.
            due_ids = [request.id for request in due if request.announced_at is None or anyone_on_duty]
        for request_id in due_ids:
            await self.announce(request_id)

    async def deliver_rasa_events(self) -> None:
        """Pauses or resumes the assistant for conversations whose handoff started or ended; retried until Rasa takes it."""
        async with self._delivering_rasa_events:
            with self.gateway.session() as session:
                due = [(request.id, request.sender_id, request.rasa_event_due) for request in queue.with_rasa_event_due(session)]
            for request_id, sender_id, event in due:
                try:
                    await self.gateway.assistant.add_event(sender_id, event)
                except AssistantUnavailable as error:
                    log.warning("could not tell Rasa to %s conversation of request %s: %s", event, request_id, error)
                    return
                with self.gateway.session() as session:
                    request = session.get(HandoffRequest, request_id)
                    if request is not None and request.rasa_event_due == event:
                        request.rasa_event_due = None

    # --- the newcomer writes -------------------------------------------------------------------

    async def from_newcomer(self, request_id: int, message: Message | None, text: str | None) -> None:
        """Kept in the transcript; passed on to the mediator when one holds the conversation."""
        kind = _kind_of(message)
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            entry = queue.record(session, request, FROM_NEWCOMER, kind, text, chat_message_id=message.message_id if message else None)
            entry_id, claimed = entry.id, request.status == CLAIMED
        if not claimed:
            return  # shown to whoever claims it
        await self._relay_to_group(request_id, entry_id, message, text)

    async def _relay_to_group(
        self, request_id: int, entry_id: int, message: Message | None, text: str | None, copy_from: tuple[int, int | None] | None = None
    ) -> None:
        """Text is written out with the request's number; anything else is copied from the newcomer's chat."""
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            where = self._where(request)
        if message is not None and _kind_of(message) != "text":
            copy_from = (message.chat.id, message.message_id)
        posted_id = None
        try:
            if copy_from is not None and copy_from[1] is not None:
                copied = await self.bot.copy_message(self.group, copy_from[0], copy_from[1], **where)
                posted_id = copied.message_id
            else:
                posted = await self.bot.send_message(self.group, f"👤 #{request_id}: {text}", **where)
                posted_id = posted.message_id
        except TelegramError as error:
            log.warning("could not relay to the mediators' group: %s", type(error).__name__)
        with self.gateway.session() as session:
            entry = session.get(queue.TranscriptMessage, entry_id)
            entry.group_message_id, entry.relayed = posted_id, posted_id is not None
            if posted_id is not None:
                queue.remember_group_message(session, self.group, posted_id, request_id, RELAY)

    async def cancel_by_newcomer(self, request_id: int, chat_id: int) -> None:
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            if request is None or request.chat_id != chat_id or request.status not in queue.OPEN_STATUSES:
                return
            queue.close(session, request, CANCELLED)
        await self.deliver_rasa_events()
        await self.gateway.say_to(chat_id, "handoff_cancelled")
        await self._post(f"↩️ #{request_id}: the person went back to the assistant.")
        await self._close_topic(request_id)

    async def person_erased(self, chat_id: int) -> None:
        """Before a /forget: the open request ends and its mediator is told, without content."""
        with self.gateway.session() as session:
            request = queue.open_request_of(session, chat_id)
            if request is None:
                return
            request_id = request.id
            queue.close(session, request, CANCELLED)
        await self.deliver_rasa_events()
        await self._post(f"🗑 #{request_id}: the person erased their data; the conversation is closed.")
        await self._close_topic(request_id)

    # --- mediators act -------------------------------------------------------------------------

    def _registered(self, session, user_id: int | None) -> Mediator | None:
        return mediators.by_telegram_id(session, user_id) if user_id is not None else None

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query.message is None or query.message.chat.id != self.group:
            await query.answer()
            return  # mediators' buttons only count in the mediators' group
        action, _, number = (query.data or "").partition(":")
        with self.gateway.session() as session:
            mediator = self._registered(session, query.from_user.id)
            mediator_id = mediator.id if mediator else None
        if mediator_id is None:
            await query.answer("Only registered mediators can do this.", show_alert=True)
            return
        request_id = int(number)
        if action == "take":
            await self.claim(query, request_id, mediator_id)
        elif action in ("end", "release"):
            answer = await self._finish(request_id, mediator_id, action)
            await query.answer(answer)

    async def claim(self, query: Any, request_id: int, mediator_id: int) -> None:
        with self.gateway.session() as session:
            mediator = session.get(Mediator, mediator_id)
            won = queue.claim(session, request_id, mediator)
            request = session.get(HandoffRequest, request_id)
            holder = request.mediator.name if request and request.mediator else "someone"
            name = mediator.name
        if not won:
            await query.answer(f"#{request_id} is already taken by {holder}." if request and request.status == CLAIMED else f"#{request_id} is no longer waiting.")
            return
        await query.answer(f"#{request_id} is yours.")
        log.info("request %s claimed by mediator %s", request_id, mediator_id)
        await self._mark_announcements(request_id, f"✅ Taken by {html.escape(name)}")
        await self._open_thread(request_id, name)
        await self._tell_newcomer_holder(request_id, "handoff_claimed", name)

    async def _mark_announcements(self, request_id: int, note: str) -> None:
        with self.gateway.session() as session:
            announced = list(
                session.execute(select(GroupMessage.message_id).where(GroupMessage.chat_id == self.group, GroupMessage.request_id == request_id, GroupMessage.purpose == ANNOUNCEMENT)).scalars()
            )
        for message_id in announced:
            try:
                await self.bot.edit_message_reply_markup(self.group, message_id, reply_markup=None)
            except TelegramError:
                pass  # already edited, or deleted by a mediator
        await self._post(f"#{request_id}: {note}")

    async def _open_thread(self, request_id: int, holder_name: str) -> None:
        """A forum topic for the conversation, or a header message to reply to; then what was said so far."""
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            title = describe(request)
            chat_id = request.chat_id
            transcript = [(message.id, message.kind, message.text, message.chat_message_id) for message in request.messages if message.author == FROM_NEWCOMER]
        if self.group_is_forum:
            try:
                topic = await self.bot.create_forum_topic(self.group, title[:128])
                with self.gateway.session() as session:
                    session.get(HandoffRequest, request_id).thread_id = topic.message_thread_id
            except TelegramError as error:
                log.warning("could not create a forum topic: %s", type(error).__name__)
        header_text = (
            f"💬 {html.escape(title)}\nHeld by {html.escape(holder_name)}. "
            + ("Write in this topic to answer." if self.group_is_forum else "Reply to this conversation's messages to answer.")
            + " /end when done, /release to give it back to the queue, /transfer &lt;Telegram id&gt; to hand it to a colleague."
        )
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
        header = await self._post(header_text, request, reply_markup=keyboard([("End", f"end:{request_id}"), ("Release", f"release:{request_id}")]))
        self._remember(header, request_id, HEADER)
        for entry_id, kind, text, chat_message_id in transcript:
            await self._relay_to_group(request_id, entry_id, None, text, copy_from=(chat_id, chat_message_id) if kind != "text" else None)

    async def _tell_newcomer_holder(self, request_id: int, key: str, name: str) -> None:
        with self.gateway.session() as session:
            chat_id = session.get(HandoffRequest, request_id).chat_id
        await self.gateway.say_to(chat_id, key, name=name)

    async def on_group_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return
        with self.gateway.session() as session:
            mediator = self._registered(session, message.from_user.id)
            if mediator is None:
                return  # only registered mediators act here
            mediator_id, mediator_name = mediator.id, mediator.name
            request = self._request_of(session, message)
            request_id = request.id if request else None
            holds = request is not None and queue.held_by(request, mediator)
            command = (message.text or "").split(maxsplit=1)[0].split("@")[0].lower() if (message.text or "").startswith("/") else None
        if command == "/queue":
            await self._show_queue(mediator_id)
            return
        if request_id is None:
            return
        if not holds:
            await self._post(f"#{request_id} is not held by you, {html.escape(mediator_name)}: only its holder can write to this person.")
            return
        if command in ("/end", "/release"):
            await self._post(await self._finish(request_id, mediator_id, command[1:]))
        elif command == "/transfer":
            await self._transfer(request_id, mediator_id, (message.text or "").split(maxsplit=1)[1:])
        else:
            await self._relay_to_newcomer(request_id, mediator_name, message)

    def _request_of(self, session, message: Message) -> HandoffRequest | None:
        if message.is_topic_message and message.message_thread_id:
            found = queue.request_of_thread(session, message.message_thread_id)
            if found is not None:
                return found
        if message.reply_to_message is not None:
            return queue.request_of_group_message(session, message.chat.id, message.reply_to_message.message_id)
        return None

    async def _relay_to_newcomer(self, request_id: int, mediator_name: str, message: Message) -> None:
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            chat_id = request.chat_id
            kind = _kind_of(message)
            queue.record(session, request, FROM_MEDIATOR, kind, message.text or message.caption, group_message_id=message.message_id, relayed=True)
            queue.remember_group_message(session, message.chat.id, message.message_id, request_id, FROM_MEDIATOR)
        try:
            if kind == "text":
                await self.bot.send_message(chat_id, f"👤 {mediator_name}: {message.text}")
            else:
                await self.bot.copy_message(chat_id, message.chat.id, message.message_id)
        except TelegramError as error:
            log.warning("could not relay to chat %s: %s", chat_id, type(error).__name__)
            await self._post(f"#{request_id}: could not deliver that message ({type(error).__name__}).")

    async def _finish(self, request_id: int, mediator_id: int, action: str) -> str:
        """/end or /release by the holder; returns what to tell the mediator."""
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            mediator = session.get(Mediator, mediator_id)
            if request is None or not queue.held_by(request, mediator):
                return f"#{request_id} is not held by you."
            chat_id = request.chat_id
            if action == "end":
                queue.close(session, request)
            else:
                queue.release(session, request)
        if action == "end":
            await self.deliver_rasa_events()
            with self.gateway.session() as session:
                language = self.gateway.language_of(session, chat_id)
            buttons = [(say("button_yes", language), f"fb:{request_id}:yes"), (say("button_no", language), f"fb:{request_id}:no")]
            await self.gateway.send_text(chat_id, say("handoff_ended", language), buttons)
            await self._close_topic(request_id)
            log.info("request %s ended", request_id)
            return f"#{request_id} ended; the assistant answers this person again."
        await self.gateway.say_to(chat_id, "handoff_released")
        await self.announce(request_id, inform_newcomer=False)
        return f"#{request_id} is back in the queue."

    async def _transfer(self, request_id: int, mediator_id: int, arguments: list[str]) -> None:
        with self.gateway.session() as session:
            target = None
            if arguments and arguments[0].strip().lstrip("-").isdigit():
                target = mediators.by_telegram_id(session, int(arguments[0].strip()))
            if target is None:
                names = ", ".join(f"{html.escape(m.name)} ({m.telegram_user_id})" for m in mediators.all_mediators(session) if m.id != mediator_id)
                reply = f"Write /transfer followed by a colleague's Telegram id: {names or 'no other mediator is registered'}."
            else:
                request = session.get(HandoffRequest, request_id)
                queue.transfer(session, request, target)
                reply = f"#{request_id} now held by {mention(target)}."
                target_name = target.name
        await self._post(reply)
        if target is not None:
            await self._tell_newcomer_holder(request_id, "handoff_transferred", target_name)

    async def _show_queue(self, mediator_id: int) -> None:
        """Summaries of the waiting requests, and the asker's own: never another holder's conversation."""
        with self.gateway.session() as session:
            mediator = session.get(Mediator, mediator_id)
            waiting = [describe(request) for request in queue.waiting_requests(session)]
            mine = [describe(request) for request in queue.held_requests(session, mediator)]
        lines = ["Waiting: " + ("; ".join(waiting) if waiting else "none"), f"Held by {mediator.name}: " + ("; ".join(mine) if mine else "none")]
        await self._post(html.escape("\n".join(lines)))

    async def _close_topic(self, request_id: int) -> None:
        with self.gateway.session() as session:
            request = session.get(HandoffRequest, request_id)
            thread_id = request.thread_id if request else None
        if thread_id:
            try:
                await self.bot.close_forum_topic(self.group, thread_id)
            except TelegramError as error:
                log.warning("could not close forum topic: %s", type(error).__name__)


def _kind_of(message: Message | None) -> str:
    if message is None or message.text is not None:
        return "text"
    for kind in ("photo", "voice", "audio", "video", "video_note", "document", "sticker", "location", "contact"):
        if getattr(message, kind, None):
            return kind
    return "other"
