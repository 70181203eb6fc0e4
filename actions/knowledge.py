"""The action server's connection to the knowledge base."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session

from bot.knowledge.database import session_scope


@contextmanager
def knowledge() -> Iterator[Session]:
    with session_scope() as session:
        yield session
