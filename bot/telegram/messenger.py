"""What every part of the gateway shares: the database, the outbox, the bot, and the language a person reads.

The newcomers' side (``gateway``, ``commands``, ``data_requests``) and the
mediators' side (``mediation``) both talk to people through this, so neither
reaches into the other. Database work runs on worker threads (``db``): the
gateway handles many chats at once on one event loop.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from telegram import User

from bot.database.base import utcnow
from bot.database.sessions import engine_for, in_thread
from bot.languages import LINGUA_FRANCA, is_supported, normalise_code
from bot.telegram import outbox
from bot.telegram.config import GatewayConfig
from bot.telegram.models import ChatProfile
from bot.texts import say

T = TypeVar("T")


def profile(session, chat_id: int) -> ChatProfile:
    """The chat's profile, created on first contact."""
    found = session.get(ChatProfile, chat_id)
    if found is None:
        found = ChatProfile(chat_id=chat_id)
        session.add(found)
        session.flush()
    return found


def language_of(session, chat_id: int, user: User | None = None) -> str:
    """The language the assistant last wrote in, else the app's language, else English."""
    found = session.get(ChatProfile, chat_id)
    if found is not None and found.language:
        return found.language
    for code in (user.language_code if user else None, found.language_code if found else None):
        if is_supported(normalise_code(code)):
            return normalise_code(code)
    return LINGUA_FRANCA


class Messenger:
    def __init__(self, config: GatewayConfig, bot: Any = None):
        self.config = config
        self.engine = engine_for(config.database_url)
        self.bot = bot
        self.outbox = outbox.Outbox(self.engine, lambda: self.bot)

    async def db(self, work: Callable[..., T], *args, **kwargs) -> T:
        """``work(session, *args, **kwargs)`` in one transaction, off the event loop."""
        return await in_thread(self.engine, work, *args, **kwargs)

    async def language(self, chat_id: int, user: User | None = None) -> str:
        return await self.db(language_of, chat_id, user)

    async def send_text(self, chat_id: int, text: str, buttons: list[tuple[str, str]] | None = None) -> None:
        """Puts the text in the outbox and sends it; Telegram's refusals are retried there."""
        await self.db(outbox.put_text, chat_id, text, buttons)
        await self.outbox.deliver(chat_id)

    async def say_to(self, chat_id: int, key: str, buttons: list[tuple[str, str]] | None = None, **values: Any) -> None:
        """One sentence of the catalogue, in the person's language."""
        await self.send_text(chat_id, say(key, await self.language(chat_id), **values), buttons)

    async def tell_once(self, chat_id: int, marker: str, key: str) -> None:
        """Tells the newcomer something about the service (down, too fast) once until it changes."""

        def first_time(session) -> bool:
            found = profile(session, chat_id)
            if getattr(found, marker) is not None:
                return False
            setattr(found, marker, utcnow())
            return True

        if await self.db(first_time):
            await self.say_to(chat_id, key)
