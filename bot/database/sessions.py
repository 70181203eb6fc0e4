"""Engines and sessions for the application's database.

The sessions are synchronous (SQLAlchemy 1.4, Rasa's pin). Code on an event
loop (the gateway, the actions) runs its database work through ``in_thread``,
so that a slow query holds up one conversation, not every other one.
"""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Callable, Iterator, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import settings

T = TypeVar("T")


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        # SQLite checks foreign keys only when asked, per connection.
        @event.listens_for(engine, "connect")
        def _enable_foreign_keys(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def default_engine() -> Engine:
    return engine_for(settings.database_url())


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    session = Session(engine or default_engine(), future=True, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def in_session(engine: Engine, work: Callable[..., T], *args, **kwargs) -> T:
    """``work(session, *args, **kwargs)`` in one committed transaction."""
    with session_scope(engine) as session:
        return work(session, *args, **kwargs)


async def in_thread(engine: Engine, work: Callable[..., T], *args, **kwargs) -> T:
    """``work(session, ...)`` in one transaction, on a worker thread: the event loop goes on meanwhile.

    What ``work`` returns must be plain values or detached objects (sessions do
    not expire on commit), never something that loads lazily afterwards.
    """
    return await asyncio.get_running_loop().run_in_executor(None, partial(in_session, engine, work, *args, **kwargs))
