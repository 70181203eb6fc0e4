"""The audit log: who changed what, when. Every change to accounts is recorded here, in the transaction that makes it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.models import AuditEntry, StaffAccount
from bot.database.base import as_utc

COMMAND_LINE = "command line"  # the actor of `acollida staff ...`: whoever can run commands on the server


@dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any] | None


def record(session: Session, actor: StaffAccount | None, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
    """Adds an entry to the caller's transaction, so that the change and its record are saved together or not at all."""
    if detail and any("password" in key.lower() for key in detail):
        raise ValueError("the audit log never holds a password: leave it out of the detail")
    session.add(AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else COMMAND_LINE,
        action=action,
        target=target,
        detail=detail,
    ))
    session.flush()


def recent(session: Session, limit: int, before: int | None = None) -> list[Entry]:
    """The newest entries first; `before` an entry id, for the next page."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return [
        Entry(entry.id, as_utc(entry.at), entry.actor, entry.action, entry.target, entry.detail)
        for entry in session.execute(query).scalars()
    ]
