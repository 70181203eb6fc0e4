"""The console's own tables: staff accounts and the audit log.

Content revisions are the knowledge package's (``bot.knowledge.models``);
these say who may do what, and who did what.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String

from bot.database.base import Base, utcnow

ROLE_EDITOR = "editor"  # writes drafts
ROLE_REVIEWER = "reviewer"  # approves and publishes
ROLE_ADMIN = "admin"  # manages staff accounts, mediators, municipalities and offices
ROLES = (ROLE_EDITOR, ROLE_REVIEWER, ROLE_ADMIN)


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)  # stored lower case
    name = Column(String(100), nullable=False)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(200), nullable=False)  # argon2id
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_sign_in_at = Column(DateTime(timezone=True), nullable=True)
    # Repeated wrong passwords slow the next attempts down (see bot.console.accounts).
    failed_sign_ins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """Who changed what, when: content, accounts, mediators, municipalities and offices."""

    __tablename__ = "audit_entries"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor_id = Column(Integer, ForeignKey("staff_accounts.id", ondelete="SET NULL"), nullable=True)
    actor = Column(String(254), nullable=False)  # the account's e-mail then, or "command line"
    action = Column(String(64), nullable=False)  # e.g. "article.publish", "staff.create"
    target = Column(String(200), nullable=False)  # e.g. "article health_card/ar/vic", "staff 3"
    detail = Column(JSON, nullable=True)  # never a password or a newcomer's words
