"""The mediators' side of a handoff, in their Telegram group.

A request is announced in the group with its language, topic, town and the
last messages, naming the mediators who speak the language; "Take" claims it
(exactly once: ``bot.handoff.queue.claim`` is one conditional UPDATE). The
holder talks with the newcomer in a forum topic of their own when the group
is a forum, otherwise by replying to the conversation's messages in the
group. /end, /release and /transfer (or the buttons) hand it on. Only
registered mediators can claim or write to a newcomer, and only the holder
writes to that newcomer. What mediators read here is for staff, in English.

Whoever opens or closes a request writes a handoff event in the same
transaction (``bot.handoff.models.HandoffEvent``); this side delivers them:
it pauses or resumes the conversation in Rasa and announces new requests.
"""
from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from typing import Any

from sqlalchemy import select
from telegram import Message, ReplyParameters, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.database.base import utcnow
from bot.handoff import availability, mediators, queue
from bot.handoff.models import CANCELLED, CLAIMED, EVENT_OPENED, FROM_MEDIATOR, FROM_NEWCOMER, HandoffEvent, HandoffRequest, Mediator, TranscriptMessage
from bot.languages import LANGUAGES_BY_CODE
from bot.telegram import group_messages, outbox
from bot.telegram.assistant import AssistantClient, AssistantUnavailable, recent_lines
from bot.telegram.group_messages import ANNOUNCEMENT, HEADER, RELAY
from bot.telegram.messenger import Messenger, language_of
from bot.telegram.models import GroupMessage, OutgoingMessage
from bot.telegram.rendering import keyboard
from bot.texts import say

log = logging.getLogger(__name__)

RECENT_LINES_ANNOUNCED = 6
# What Rasa is told when a handoff event is delivered.
RASA_EVENT = {EVENT_OPENED: "pause"}
RASA_RESUME = "resume"


def describe(request: HandoffRequest) -> str:
    language = LANGUAGES_BY_CODE.get(request.language)
    language_text = f"{request.language} ({language.english_name})" if language else request.language
    parts = [f"#{request.id}", language_text, f"topic: {request.topic or '-'}", f"town: {request.municipality or '-'}", f"reason: {request.reason}"]
    return " · ".join(parts)


def mention(mediator: Mediator) -> str:
    return f'<a href="tg://user?id={mediator.telegram_user_id}">{html.escape(mediator.name)}</a>'


class Mediation:
    def __init__(self, messenger: Messenger, assistant: AssistantClient, locks: Any):
        self.messenger = messenger
        self.config = messenger.config
        self.assistant = assistant
        # A newcomer's chat lock is held while their handoff events reach Rasa: /forget holds it too,
        # so Rasa is never inside a conversation (and about to save it back) while it is erased.
        self.locks = locks
        self.group_is_forum = False
        self._tasks: set[asyncio.Task] = set()
        messenger.outbox.set_hooks(self.placement, self.delivered, self.given_up)

    @property
    def group(self) -> int | None:
        return self.config.mediator_chat_id

    @property
    def bot(self) -> Any:
        return self.messenger.bot

    async def start(self) -> None:
        if self.group is None:
            return
        try:
            self.group_is_forum = bool((await self.bot.get_chat(self.group)).is_forum)
        except TelegramError as error:
            log.warning("cannot read the mediators' group %s: %s", self.group, type(error).__name__)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _in_background(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, text: str, request_id: int | None = None, *, purpose: str | None = None, buttons: list[tuple[str, str]] | None = None) -> None:
        """Posts in the mediators' group through the outbox: in the request's topic or thread when it is claimed."""
        if self.group is None:
            log.warning("no mediators' group configured (TELEGRAM_MEDIATOR_CHAT_ID): cannot tell mediators")
            return

        def put(session) -> None:
            request = session.get(HandoffRequest, request_id) if request_id is not None else None
            outbox.put_text(
                session, self.group, text, buttons, parse_mode="HTML", in_request_thread=request is not None and request.status == CLAIMED,
                request_id=request_id if request is not None else None, purpose=purpose,
            )

        await self.messenger.db(put)
        # The group's lane runs by itself: Telegram allows a group 20 messages a minute, and no newcomer waits for it.
        self.messenger.outbox.kick(self.group)

    # --- outbox hooks (inside the outbox's transaction) ----------------------------------------

    def placement(self, session, row: OutgoingMessage) -> dict[str, Any]:
        request = session.get(HandoffRequest, row.request_id) if row.request_id else None
        if request is None or request.status != CLAIMED:
            return {}
        if request.thread_id:
            return {"message_thread_id": request.thread_id}
        header = session.execute(
            select(GroupMessage).where(GroupMessage.chat_id == self.group, GroupMessage.request_id == request.id, GroupMessage.purpose == HEADER).order_by(GroupMessage.message_id.desc())
        ).scalars().first()
        return {"reply_parameters": ReplyParameters(header.message_id, allow_sending_without_reply=True)} if header else {}

    def delivered(self, session, row: OutgoingMessage, sent: Any) -> None:
        """A message Telegram accepted: remember what it is to its handoff."""
        message_id = getattr(sent, "message_id", None)
        if row.chat_id == self.group and row.request_id and row.purpose and message_id is not None:
            if session.get(HandoffRequest, row.request_id) is not None:
                group_messages.remember(session, self.group, message_id, row.request_id, row.purpose)
        if row.transcript_id:
            entry = session.get(TranscriptMessage, row.transcript_id)
            if entry is not None:
                entry.relayed = True
                if row.chat_id == self.group:
                    entry.group_message_id = message_id

    async def given_up(self, row: OutgoingMessage, reason: str) -> None:
        """A message Telegram would not take: the mediator hears of a relay that did not reach the person."""
        if row.chat_id != self.group and row.transcript_id and row.request_id:
            exists = await self.messenger.db(lambda session: session.get(HandoffRequest, row.request_id) is not None)
            if exists:
                await self._post(f"⚠️ #{row.request_id}: a message of yours could not be delivered to the person ({reason}).", row.request_id)

    # --- handoff events: Rasa paused or resumed, new requests announced ------------------------

    async def deliver_events_of(self, chat_id: int) -> None:
        """The chat's handoff events, in order; stops at the first Rasa refuses. The caller holds the chat's lock."""

        for event_id, request_id, sender_id, kind in await self.messenger.db(queue.events_due, chat_id):
            rasa_event = RASA_EVENT.get(kind, RASA_RESUME)
            try:
                await self.assistant.add_event(sender_id, rasa_event)
                delivered = True
            except AssistantUnavailable as error:
                log.warning("could not tell Rasa to %s conversation of request %s: %s", rasa_event, request_id, error)
                await self.messenger.db(_attempted, event_id)
                delivered = False
            if delivered:
                await self.messenger.db(queue.event_delivered, event_id)
            if kind == EVENT_OPENED:
                await self.announce(request_id)  # the mediators need not wait for Rasa
            if not delivered:
                return

    def deliver_events_soon(self, chat_id: int) -> None:
        """From the mediators' side, which does not hold the newcomer's lock: delivered as soon as the chat is free."""

        async def deliver() -> None:
            async with self.locks.hold(chat_id):
                await self.deliver_events_of(chat_id)

        self._in_background(deliver())

    async def announce(self, request_id: int, inform_newcomer: bool = True) -> None:
        """Posts the request in the mediators' group, unless it is not due (claimed, or announced a moment ago)."""

        def take(session):
            if not queue.take_announcement(session, request_id, utcnow(), self.config.reannounce_every):
                return None
            request = session.get(HandoffRequest, request_id)
            session.refresh(request)
            return request.sender_id, request.announcements > 1

        taken = await self.messenger.db(take)
        if taken is None:
            return
        sender_id, again = taken
        tracker_lines = recent_lines(await self.assistant.tracker(sender_id, with_events=True), RECENT_LINES_ANNOUNCED)

        def announcement(session) -> str:
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
            return "\n".join(lines)

        await self._post(await self.messenger.db(announcement), request_id, purpose=ANNOUNCEMENT, buttons=[(f"Take #{request_id}", f"take:{request_id}")])
        log.info("request %s announced", request_id)
        if again and inform_newcomer:
            await self._keep_newcomer_informed(request_id)

    async def _keep_newcomer_informed(self, request_id: int) -> None:
        def words(session):
            chat_id = session.get(HandoffRequest, request_id).chat_id
            language = language_of(session, chat_id)
            return chat_id, language, availability.waiting_sentence(session, language, utcnow())

        chat_id, language, waiting = await self.messenger.db(words)
        text = say("handoff_still_waiting", language) + (f"\n{waiting}" if waiting else "")
        await self.messenger.send_text(chat_id, text, [(say("button_back_to_assistant", language), f"cancel:{request_id}")])

    async def tick(self) -> None:
        """The background round: events not delivered yet, requests of removed mediators, requests due for announcement."""
        for chat_id in await self.messenger.db(_chats_with_events):
            async with self.locks.hold(chat_id):
                await self.deliver_events_of(chat_id)
        await self._release_orphans()

        def due(session) -> list[int]:
            now = utcnow()
            waiting = queue.due_for_announcement(session, now, self.config.reannounce_every)
            anyone_on_duty = bool(mediators.on_duty(mediators.all_mediators(session), now))
            # Outside everyone's hours a request is announced once, then again when someone starts.
            return [request.id for request in waiting if request.announced_at is None or anyone_on_duty]

        for request_id in await self.messenger.db(due):
            await self.announce(request_id)

    async def _release_orphans(self) -> None:
        """A request held by a mediator who is no longer registered goes back to the queue; its newcomer is told."""

        def release(session) -> list[tuple[int, int]]:
            orphans = [(request.id, request.chat_id) for request in queue.held_by_nobody(session)]
            for request_id, _ in orphans:
                queue.release(session, session.get(HandoffRequest, request_id))
            return orphans

        for request_id, chat_id in await self.messenger.db(release):
            await self.messenger.say_to(chat_id, "handoff_released")
            await self.announce(request_id, inform_newcomer=False)

    # --- the newcomer writes -------------------------------------------------------------------

    async def from_newcomer(self, request_id: int, message: Message | None, text: str | None) -> None:
        """Kept in the transcript; passed on to the mediator when one holds the conversation."""
        kind = _kind_of(message)

        def keep(session) -> tuple[int, bool]:
            request = session.get(HandoffRequest, request_id)
            entry = queue.record(session, request, FROM_NEWCOMER, kind, text, chat_message_id=message.message_id if message else None)
            return entry.id, request.status == CLAIMED

        entry_id, claimed = await self.messenger.db(keep)
        if claimed:
            await self._relay_to_group(request_id, entry_id, message, text)

    async def _relay_to_group(
        self, request_id: int, entry_id: int, message: Message | None, text: str | None, copy_from: tuple[int, int | None] | None = None
    ) -> None:
        """Text is written out with the request's number; anything else is copied from the newcomer's chat."""
        if message is not None and _kind_of(message) != "text":
            copy_from = (message.chat.id, message.message_id)

        def put(session) -> None:
            what = dict(request_id=request_id, purpose=RELAY, transcript_id=entry_id)
            if copy_from is not None and copy_from[1] is not None:
                payload = {"from_chat_id": copy_from[0], "message_id": copy_from[1], "in_request_thread": True}
                outbox.put(session, self.group, outbox.COPY_MESSAGE, payload, **what)
            else:
                # Split like any text: the prefix must not push a long message over Telegram's limit.
                outbox.put_text(session, self.group, f"👤 #{request_id}: {text}", in_request_thread=True, **what)

        await self.messenger.db(put)
        self.messenger.outbox.kick(self.group)

    async def cancel_by_newcomer(self, request_id: int, chat_id: int) -> None:
        """The newcomer went back to the assistant. The caller holds the chat's lock."""

        def cancel(session) -> bool:
            request = session.get(HandoffRequest, request_id)
            if request is None or request.chat_id != chat_id or request.status not in queue.OPEN_STATUSES:
                return False
            queue.close(session, request, CANCELLED)
            return True

        if not await self.messenger.db(cancel):
            return
        await self.deliver_events_of(chat_id)
        await self.messenger.say_to(chat_id, "handoff_cancelled")
        await self._post(f"↩️ #{request_id}: the person went back to the assistant.")
        await self._close_topic(request_id)

    async def person_erased(self, chat_id: int) -> int:
        """Before a /forget: the open request ends, Rasa is told, and what the bot posted of the person in the group is deleted.

        The requests themselves go with the rest of the person's data
        (``queue.forget_chat``). Returns how many of the group's messages
        Telegram would not delete (it allows bots 48 hours); the mediators are
        asked to delete them by hand. The caller holds the chat's lock.
        """

        def close(session):
            request = queue.open_request_of(session, chat_id)
            if request is not None:
                queue.close(session, request, CANCELLED)
            requests = list(session.execute(select(HandoffRequest).where(HandoffRequest.chat_id == chat_id)).scalars())
            topics = [(r.id, r.thread_id) for r in requests if r.thread_id]
            posted = [
                (m.request_id, m.message_id, m.purpose)
                for r in requests
                for m in session.execute(select(GroupMessage).where(GroupMessage.request_id == r.id, GroupMessage.purpose.in_((ANNOUNCEMENT, HEADER, RELAY)))).scalars()
            ]
            for r in requests:
                outbox.forget_request(session, r.id)  # nothing of theirs is posted later
            return request is not None, sorted(r.id for r in requests), topics, posted

        had_open, request_ids, topics, posted = await self.messenger.db(close)
        if had_open:
            await self.deliver_events_of(chat_id)
        if self.group is None:
            return 0
        gone_topics = set()
        for request_id, thread_id in topics:
            try:
                await self.bot.delete_forum_topic(self.group, thread_id)  # the topic goes with every message in it
                gone_topics.add(request_id)
            except TelegramError as error:
                log.warning("could not delete a forum topic: %s", type(error).__name__)
        left = []
        for request_id, message_id, purpose in posted:
            if request_id in gone_topics and purpose != ANNOUNCEMENT:
                continue
            try:
                await self.bot.delete_message(self.group, message_id)
            except BadRequest as error:
                if "not found" not in str(error).lower():
                    left.append(message_id)
            except TelegramError:
                left.append(message_id)
        for request_id in request_ids:
            await self._post(f"🗑 #{request_id}: the person erased their data; the conversation is closed and the bot deleted what it had posted of it.")
        if left:
            links = ", ".join(_link(self.group, message_id) for message_id in left)
            await self._post(f"🗑 The bot could not delete {len(left)} message(s) of a person who erased their data (Telegram allows it for 48 hours): please delete them by hand: {links}")
        return len(left)

    # --- mediators act -------------------------------------------------------------------------

    async def _registered_id(self, user_id: int | None) -> tuple[int, str] | None:
        def find(session):
            mediator = mediators.by_telegram_id(session, user_id) if user_id is not None else None
            return (mediator.id, mediator.name) if mediator else None

        return await self.messenger.db(find)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query.message is None or query.message.chat.id != self.group:
            await query.answer()
            return  # mediators' buttons only count in the mediators' group
        action, _, number = (query.data or "").partition(":")
        registered = await self._registered_id(query.from_user.id)
        if registered is None:
            await query.answer("Only registered mediators can do this.", show_alert=True)
            return
        request_id = queue.request_number(number)
        if request_id is None:
            await query.answer("No such request.", show_alert=True)
            return
        if action == "take":
            await self.claim(query, request_id, registered[0])
        elif action in ("end", "release"):
            await query.answer(await self._finish(request_id, registered[0], action))

    async def claim(self, query: Any, request_id: int, mediator_id: int) -> None:
        def take(session):
            mediator = session.get(Mediator, mediator_id)
            won = queue.claim(session, request_id, mediator)
            request = session.get(HandoffRequest, request_id)
            holder = request.mediator.name if request and request.mediator else "someone"
            return won, holder, request is not None and request.status == CLAIMED, mediator.name

        won, holder, claimed, name = await self.messenger.db(take)
        if not won:
            await query.answer(f"#{request_id} is already taken by {holder}." if claimed else f"#{request_id} is no longer waiting.")
            return
        await query.answer(f"#{request_id} is yours.")
        log.info("request %s claimed by mediator %s", request_id, mediator_id)
        # The newcomer first: the group's posts wait for Telegram's group limit, the newcomer does not.
        await self._tell_newcomer_holder(request_id, "handoff_claimed", name)
        await self._open_thread(request_id, name)

    async def _open_thread(self, request_id: int, holder_name: str) -> None:
        """Few group posts: the announcement becomes the conversation's header (or, in a forum, a topic gets one)."""

        def read(session):
            request = session.get(HandoffRequest, request_id)
            transcript = [(m.id, m.kind, m.text, m.chat_message_id) for m in request.messages if m.author == FROM_NEWCOMER and not m.relayed]
            announced = list(
                session.execute(
                    select(GroupMessage.message_id).where(GroupMessage.chat_id == self.group, GroupMessage.request_id == request_id, GroupMessage.purpose == ANNOUNCEMENT).order_by(GroupMessage.message_id)
                ).scalars()
            )
            return describe(request), request.chat_id, transcript, announced

        title, chat_id, transcript, announced = await self.messenger.db(read)
        in_topic = False
        if self.group_is_forum:
            try:
                topic = await self.bot.create_forum_topic(self.group, title[:128])
                await self.messenger.db(_set_thread, request_id, topic.message_thread_id)
                in_topic = True
            except TelegramError as error:
                log.warning("could not create a forum topic: %s", type(error).__name__)
        header_text = (
            f"💬 {html.escape(title)}\nHeld by {html.escape(holder_name)}. "
            + ("Write in this topic to answer." if in_topic else "Reply to this conversation's messages to answer.")
            + " /end when done, /release to give it back to the queue, /transfer &lt;Telegram id&gt; to hand it to a colleague."
        )
        buttons = [("End", f"end:{request_id}"), ("Release", f"release:{request_id}")]
        # Older announcements lose their button; the newest becomes the header (outside a forum).
        for message_id in announced[:-1] if not in_topic else announced:
            with contextlib.suppress(TelegramError):
                await self.bot.edit_message_text(f"#{request_id}: ✅ taken by {html.escape(holder_name)}", self.group, message_id, parse_mode="HTML")
        edited = False
        if announced and not in_topic:
            try:
                await self.bot.edit_message_text(header_text, self.group, announced[-1], parse_mode="HTML", reply_markup=keyboard(buttons))
                await self.messenger.db(group_messages.remember, self.group, announced[-1], request_id, HEADER)
                edited = True
            except TelegramError as error:
                log.warning("could not turn the announcement into the header: %s", type(error).__name__)
        if not edited:
            await self._post(header_text, request_id, purpose=HEADER, buttons=buttons)
        for entry_id, kind, text, chat_message_id in transcript:
            await self._relay_to_group(request_id, entry_id, None, text, copy_from=(chat_id, chat_message_id) if kind != "text" else None)

    async def _tell_newcomer_holder(self, request_id: int, key: str, name: str) -> None:
        chat_id = await self.messenger.db(lambda session: session.get(HandoffRequest, request_id).chat_id)
        await self.messenger.say_to(chat_id, key, name=name)

    async def on_group_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return

        def read(session):
            mediator = mediators.by_telegram_id(session, message.from_user.id)
            if mediator is None:
                return None
            request = self._request_of(session, message)
            return mediator.id, mediator.name, request.id if request else None, request is not None and queue.held_by(request, mediator)

        found = await self.messenger.db(read)
        if found is None:
            return  # only registered mediators act here
        mediator_id, mediator_name, request_id, holds = found
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
            return group_messages.request_of(session, message.chat.id, message.reply_to_message.message_id)
        return None

    async def _relay_to_newcomer(self, request_id: int, mediator_name: str, message: Message) -> None:
        """Recorded as relayed only once Telegram took it (the outbox); the mediator hears if it never does."""
        kind = _kind_of(message)

        def put(session) -> int:
            request = session.get(HandoffRequest, request_id)
            entry = queue.record(session, request, FROM_MEDIATOR, kind, message.text or message.caption, group_message_id=message.message_id, relayed=False)
            group_messages.remember(session, message.chat.id, message.message_id, request_id, group_messages.FROM_MEDIATOR)
            what = dict(request_id=request_id, transcript_id=entry.id)
            if kind == "text":
                outbox.put_text(session, request.chat_id, f"👤 {mediator_name}: {message.text}", **what)
            else:
                outbox.put(session, request.chat_id, outbox.COPY_MESSAGE, {"from_chat_id": message.chat.id, "message_id": message.message_id}, **what)
            return request.chat_id

        await self.messenger.outbox.deliver(await self.messenger.db(put))

    async def _finish(self, request_id: int, mediator_id: int, action: str) -> str:
        """/end or /release by the holder; returns what to tell the mediator."""

        def finish(session) -> int | None:
            request = session.get(HandoffRequest, request_id)
            if request is None or not queue.held_by(request, session.get(Mediator, mediator_id)):
                return None
            if action == "end":
                queue.close(session, request)
            else:
                queue.release(session, request)
            return request.chat_id

        chat_id = await self.messenger.db(finish)
        if chat_id is None:
            return f"#{request_id} is not held by you."
        if action == "end":
            self.deliver_events_soon(chat_id)
            language = await self.messenger.language(chat_id)
            buttons = [(say("button_yes", language), f"fb:{request_id}:yes"), (say("button_no", language), f"fb:{request_id}:no")]
            await self.messenger.send_text(chat_id, say("handoff_ended", language), buttons)
            await self._close_topic(request_id)
            log.info("request %s ended", request_id)
            return f"#{request_id} ended; the assistant answers this person again."
        await self.messenger.say_to(chat_id, "handoff_released")
        await self.announce(request_id, inform_newcomer=False)
        return f"#{request_id} is back in the queue."

    async def _transfer(self, request_id: int, mediator_id: int, arguments: list[str]) -> None:
        def transfer(session):
            target = None
            user_id = queue.request_number(arguments[0].strip(), limit=2**63 - 1) if arguments else None
            if user_id is not None:
                target = mediators.by_telegram_id(session, user_id)
            if target is None:
                names = ", ".join(f"{html.escape(m.name)} ({m.telegram_user_id})" for m in mediators.all_mediators(session) if m.id != mediator_id)
                return f"Write /transfer followed by a colleague's Telegram id: {names or 'no other mediator is registered'}.", None
            queue.transfer(session, session.get(HandoffRequest, request_id), target)
            return f"#{request_id} now held by {mention(target)}.", target.name

        reply, target_name = await self.messenger.db(transfer)
        await self._post(reply)
        if target_name is not None:
            await self._tell_newcomer_holder(request_id, "handoff_transferred", target_name)

    async def _show_queue(self, mediator_id: int) -> None:
        """Summaries of the waiting requests, and the asker's own: never another holder's conversation."""

        def lines(session) -> list[str]:
            mediator = session.get(Mediator, mediator_id)
            waiting = [describe(request) for request in queue.waiting_requests(session)]
            mine = [describe(request) for request in queue.held_requests(session, mediator)]
            return ["Waiting: " + ("; ".join(waiting) if waiting else "none"), f"Held by {mediator.name}: " + ("; ".join(mine) if mine else "none")]

        await self._post(html.escape("\n".join(await self.messenger.db(lines))))

    async def _close_topic(self, request_id: int) -> None:
        thread_id = await self.messenger.db(lambda session: getattr(session.get(HandoffRequest, request_id), "thread_id", None))
        if thread_id:
            try:
                await self.bot.close_forum_topic(self.group, thread_id)
            except TelegramError as error:
                log.warning("could not close forum topic: %s", type(error).__name__)


def _attempted(session, event_id: int) -> None:
    event = session.get(HandoffEvent, event_id)
    if event is not None:
        event.attempts += 1


def _chats_with_events(session) -> list[int]:
    return sorted(set(session.execute(select(HandoffRequest.chat_id).join(HandoffEvent, HandoffEvent.request_id == HandoffRequest.id)).scalars()))


def _set_thread(session, request_id: int, thread_id: int) -> None:
    session.get(HandoffRequest, request_id).thread_id = thread_id


def _kind_of(message: Message | None) -> str:
    if message is None or message.text is not None:
        return "text"
    for kind in ("photo", "voice", "audio", "video", "video_note", "document", "sticker", "location", "contact"):
        if getattr(message, kind, None):
            return kind
    return "other"


def _link(group_id: int, message_id: int) -> str:
    """A link mediators can open to a message of a supergroup (its id is -100 followed by the internal id)."""
    internal = str(group_id).removeprefix("-100")
    return f"https://t.me/c/{internal}/{message_id}"
