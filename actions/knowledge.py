"""The action server's way to the knowledge base: off the event loop.

Rasa SDK runs every action on one event loop; a query on it would hold up
every other conversation, so each action's database work runs on a worker
thread in one transaction.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from bot.database.sessions import default_engine, in_thread

T = TypeVar("T")


async def from_knowledge(work: Callable[..., T], *args: Any) -> T:
    """``work(session, *args)`` in one transaction, on a worker thread."""
    return await in_thread(default_engine(), work, *args)
