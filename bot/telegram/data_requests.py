"""/mydata and /forget: a person sees everything kept about them, and erases it.

"Done" is said only once Rasa itself returns nothing of the person: until
then the erasure stays pending (``PendingErasure``) and the gateway's
background round tries again, on whichever replica.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import Any

from sqlalchemy import delete, select
from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import privacy, tracker_events
from bot.database.base import as_utc, utcnow
from bot.handoff import queue
from bot.handoff.models import FROM_NEWCOMER, HandoffRequest
from bot.telegram import inbox, outbox
from bot.telegram.assistant import AssistantClient
from bot.telegram.mediation import Mediation
from bot.telegram.messenger import Messenger, language_of
from bot.telegram.models import ChatProfile, PendingErasure
from bot.texts import say

log = logging.getLogger(__name__)


class DataRequests:
    def __init__(self, messenger: Messenger, assistant: AssistantClient, mediation: Mediation, locks: Any):
        self.messenger = messenger
        self.config = messenger.config
        self.assistant = assistant
        self.mediation = mediation
        self.locks = locks

    async def _private_only(self, update: Update) -> bool:
        """In a group the conversation is the whole group's: one member must not see or erase another's words."""
        chat = update.effective_chat
        if chat.type == ChatType.PRIVATE:
            return False
        language = await self.messenger.language(chat.id, update.effective_user)
        await self.messenger.send_text(chat.id, say("privacy_private_only", language))
        return True

    async def on_mydata(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Everything kept about the person: the profile, what they wrote to the assistant, their handoffs' messages."""
        if await self._private_only(update):
            return
        chat_id = update.effective_chat.id

        def read(session):
            found = session.get(ChatProfile, chat_id)
            requests = list(session.execute(select(HandoffRequest).where(HandoffRequest.chat_id == chat_id)).scalars())
            # 🙋 what they wrote, 👤 what a mediator wrote to them
            handoff_lines = [
                (as_utc(message.created_at), f"{'🙋' if message.author == FROM_NEWCOMER else '👤'} {message.text}")
                for request in requests
                for message in request.messages
                if message.text
            ]
            first_seen = found.first_seen_at.date().isoformat() if found else "-"
            return language_of(session, chat_id, update.effective_user), found is not None, len(requests), first_seen, handoff_lines

        language, known, requests, first_seen, handoff_lines = await self.messenger.db(read)
        messages = await self._messages_to_the_assistant(chat_id)
        if not known and not messages:
            await self.messenger.send_text(chat_id, say("mydata_nothing", language))
            return
        await self.messenger.send_text(
            chat_id,
            say("mydata_summary", language, language=language, first_seen=first_seen, messages=len(messages), requests=requests, days=self.config.retention_days),
        )
        lines = sorted([(moment, f"🙋 {text}") for moment, text in messages] + handoff_lines, key=lambda line: line[0])
        if lines:
            await self.messenger.send_text(chat_id, say("mydata_messages", language) + "\n" + "\n".join(f"{moment:%Y-%m-%d %H:%M} {text}" for moment, text in lines))

    async def _messages_to_the_assistant(self, chat_id: int) -> list[tuple[Any, str]]:
        """What the person wrote to the assistant, as Rasa itself returns it; from its store when Rasa is down."""
        tracker = await self.assistant.tracker(str(chat_id), with_events=True)
        if tracker is None:
            return await self._in_tracker_store(tracker_events.user_messages, str(chat_id))
        return privacy.user_messages_in(tracker)

    async def _in_tracker_store(self, work, *args, **kwargs):
        # Rasa's tracker store is another database: no session of ours, only its own connection, off the loop.
        return await asyncio.get_running_loop().run_in_executor(None, partial(work, self.config.tracker_database_url, *args, **kwargs))

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._private_only(update):
            return
        chat_id = update.effective_chat.id
        language = await self.messenger.language(chat_id, update.effective_user)
        buttons = [(say("button_yes", language), "forget:yes"), (say("button_no", language), "forget:no")]
        await self.messenger.send_text(chat_id, say("forget_confirm", language), buttons)

    async def on_forget_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The yes/no under "erase everything?". The caller holds the chat's lock (every update is handled holding it)."""
        query = update.callback_query
        await query.answer()
        chat = query.message.chat if query.message else None
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        await self._answered(chat.id, query.message, query.data == "forget:yes")

    async def _answered(self, chat_id: int, message: Message | None, confirmed: bool) -> None:
        language = await self.messenger.language(chat_id)
        if message is not None:
            with contextlib.suppress(TelegramError):
                await message.edit_reply_markup(reply_markup=None)
        if not confirmed:
            await self.messenger.send_text(chat_id, say("forget_kept", language))
            return
        await self.messenger.db(lambda session: session.merge(PendingErasure(chat_id=chat_id, language=language, requested_at=utcnow(), attempts=0)))
        await self.finish_erasure(chat_id, language, first_attempt=True)

    async def tick(self) -> None:
        """Erasures not finished yet (Rasa was unreachable), each holding its chat's lock."""
        erasures = await self.messenger.db(lambda session: [(e.chat_id, e.language) for e in session.execute(select(PendingErasure)).scalars()])
        for chat_id, language in erasures:
            async with self.locks.hold(chat_id):
                await self.finish_erasure(chat_id, language)

    async def finish_erasure(self, chat_id: int, language: str, first_attempt: bool = False) -> None:
        """Erases the person everywhere, then checks: "done" is said only once Rasa itself returns nothing of them.

        Until then the erasure stays pending and the background loop tries
        again; the person is told so. The caller holds the chat's lock.
        """

        def begin(session) -> float | None:
            erasure = session.get(PendingErasure, chat_id)
            if erasure is None:
                return None
            erasure.attempts += 1
            return as_utc(erasure.requested_at).timestamp()

        before = await self.messenger.db(begin)
        if before is None:
            return
        not_deleted = await self.mediation.person_erased(chat_id)
        await self._in_tracker_store(tracker_events.forget_conversation, str(chat_id), before=before)
        await self.messenger.db(_forget_gateway_records, chat_id, not_deleted)
        erased = privacy.erased_in_rasa(await self.assistant.tracker(str(chat_id), with_events=True), before)
        erased = erased and not await self._in_tracker_store(tracker_events.user_messages, str(chat_id), before=before)
        if not erased:
            log.warning("an erasure could not be checked through Rasa yet: it stays pending")
            if first_attempt:
                await self.messenger.send_text(chat_id, say("forget_pending", language))
            return
        not_deleted = await self.messenger.db(_close_erasure, chat_id)
        log.info("a conversation was erased on request and checked")
        if not_deleted:
            await self.messenger.send_text(chat_id, say("forget_done_partial", language, count=not_deleted))
        else:
            await self.messenger.send_text(chat_id, say("forget_done", language))


def _forget_gateway_records(session, chat_id: int, not_deleted: int) -> None:
    """The person's profile, handoffs (with their transcripts and events), received and outgoing messages."""
    erasure = session.get(PendingErasure, chat_id)
    if erasure is not None and not_deleted:
        erasure.not_deleted += not_deleted
    found = session.get(ChatProfile, chat_id)
    if found is not None:
        session.delete(found)
    queue.forget_chat(session, chat_id)
    inbox.forget_chat(session, chat_id)
    outbox.forget_chat(session, chat_id)


def _close_erasure(session, chat_id: int) -> int:
    not_deleted = session.get(PendingErasure, chat_id).not_deleted
    session.execute(delete(PendingErasure).where(PendingErasure.chat_id == chat_id))
    return not_deleted
