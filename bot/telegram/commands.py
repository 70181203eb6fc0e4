"""The newcomers' commands: /start, /language, /help, /human, and those the bot does not know."""
from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import replies
from bot.knowledge import answers
from bot.telegram.gateway import HUMAN_PAYLOAD, Gateway
from bot.telegram.messenger import language_of, profile
from bot.texts import say


class Commands:
    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self.messenger = gateway.messenger

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id

        def greet(session):
            profile(session, chat_id)
            return language_of(session, chat_id, update.effective_user), answers.territory_name(session)

        language, territory = await self.messenger.db(greet)
        await self.messenger.send_text(chat_id, say("greet", language, territory=territory))
        await self.messenger.send_text(chat_id, say("welcome_privacy", language, days=self.gateway.config.retention_days))
        await self.gateway.show(chat_id, [replies.language_menu(language)], language)

    async def on_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        language = await self.messenger.language(chat_id, update.effective_user)
        await self.gateway.show(chat_id, [replies.language_menu(language)], language)

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        language = await self.messenger.language(chat_id, update.effective_user)
        await self.messenger.send_text(chat_id, say("help", language), [await self.gateway.human_button(language)])

    async def on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Asks the assistant for a person, so the conversation's language, topic and town go with the request."""
        chat = update.effective_chat
        request_id, _ = await self.gateway.open_request_and_language(chat.id, update.effective_user)
        if request_id is not None:
            await self.messenger.say_to(chat.id, "handoff_in_progress")
            return
        await self.gateway.receive(update.update_id, chat, update.effective_user, HUMAN_PAYLOAD)

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command the bot does not know: the mediator reads it during a handoff; otherwise the person is told what there is."""
        message = update.effective_message
        chat = message.chat
        if chat.type != ChatType.PRIVATE and not _addressed_command(message, context.bot):
            return  # a command for another bot in the group
        request_id, language = await self.gateway.open_request_and_language(chat.id, update.effective_user)
        if request_id is not None:
            await self.gateway.mediation.from_newcomer(request_id, message, message.text)
            return
        await self.messenger.send_text(chat.id, say("unknown_command", language), [await self.gateway.human_button(language)])


def _addressed_command(message: Message, bot: Any) -> bool:
    first = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    return first.lower().endswith(f"@{bot.username}".lower())
