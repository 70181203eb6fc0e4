"""The knowledge base tables: topics, articles and their revisions, municipalities, offices.

Written in SQLAlchemy's 2.0 style on 1.4 (Rasa's pin): ``select()`` with a
``Session``, no legacy ``Query``. The schema itself is owned by the Alembic
migrations in ``bot/database/migrations``; a test proves the two agree.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship
from sqlalchemy.sql import text

import bot.console.models  # noqa: F401  (staff_accounts: revisions refer to it, and a flush resolves the reference)
from bot.database.base import Base, metadata, utcnow

STATUS_DRAFT = "draft"
STATUS_IN_REVIEW = "in_review"
STATUS_PUBLISHED = "published"
STATUS_SUPERSEDED = "superseded"
# What an article (a row of ``articles``, and a pack's file) may be.
ARTICLE_STATUSES = (STATUS_DRAFT, STATUS_PUBLISHED)
# What a revision may be; see bot.knowledge.revisions for how one moves.
REVISION_STATUSES = (STATUS_DRAFT, STATUS_IN_REVIEW, STATUS_PUBLISHED, STATUS_SUPERSEDED)

office_topics = Table(
    "office_topics",
    metadata,
    Column("office_key", ForeignKey("offices.key", ondelete="CASCADE"), primary_key=True),
    Column("topic_key", ForeignKey("topics.key", ondelete="CASCADE"), primary_key=True),
)

article_offices = Table(
    "article_offices",
    metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("office_key", ForeignKey("offices.key", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)


class PackInfo(Base):
    """The one imported pack: which territory this database describes."""

    __tablename__ = "pack_info"

    id: int = Column(Integer, primary_key=True)
    name: str = Column(String(200), nullable=False)
    description: str = Column(Text, nullable=False, default="")
    review_max_age_days: int = Column(Integer, nullable=False)
    imported_at: dt.datetime = Column(DateTime(timezone=True), nullable=False)
    # With imported_at, what `kb import` compares console revisions against.
    exported_at: dt.datetime | None = Column(DateTime(timezone=True), nullable=True)


class Topic(Base):
    __tablename__ = "topics"

    key: str = Column(String(64), primary_key=True)
    icon: str = Column(String(16), nullable=False, default="")
    sensitive: bool = Column(Boolean, nullable=False, default=False)
    position: int = Column(Integer, nullable=False, default=0)


class Municipality(Base):
    __tablename__ = "municipalities"

    key: str = Column(String(64), primary_key=True)
    name: str = Column(String(200), nullable=False)
    position: int = Column(Integer, nullable=False, default=0)

    aliases: list[MunicipalityAlias] = relationship(
        "MunicipalityAlias",
        cascade="all, delete-orphan",
        order_by="MunicipalityAlias.position",
        back_populates="municipality",
    )


class MunicipalityAlias(Base):
    __tablename__ = "municipality_aliases"
    __table_args__ = (UniqueConstraint("municipality_key", "alias"),)

    id: int = Column(Integer, primary_key=True)
    municipality_key: str = Column(
        ForeignKey("municipalities.key", ondelete="CASCADE"), nullable=False, index=True
    )
    alias: str = Column(String(200), nullable=False)
    # lower case, no accents: what matching compares against
    normalised: str = Column(String(200), nullable=False, index=True)
    position: int = Column(Integer, nullable=False, default=0)

    municipality: Municipality = relationship("Municipality", back_populates="aliases")


class Office(Base):
    __tablename__ = "offices"

    key: str = Column(String(64), primary_key=True)
    name: str = Column(String(300), nullable=False)
    municipality_key: str | None = Column(ForeignKey("municipalities.key"), nullable=True)
    address: str = Column(String(500), nullable=False)
    latitude: float | None = Column(Float, nullable=True)
    longitude: float | None = Column(Float, nullable=True)
    phone: str | None = Column(String(64), nullable=True)
    email: str | None = Column(String(200), nullable=True)
    url: str | None = Column(String(500), nullable=True)
    # [{"days": ["mon", ...], "opens": "09:00", "closes": "14:00"}, ...]
    opening_hours: list = Column(JSON, nullable=False, default=list)
    languages: list = Column(JSON, nullable=False, default=list)
    sample: bool = Column(Boolean, nullable=False, default=False)
    position: int = Column(Integer, nullable=False, default=0)

    topics: list[Topic] = relationship("Topic", secondary=office_topics, order_by="Topic.position")


class Article(Base):
    """What the assistant reads: the published content, or while none is, the latest revision's."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("topic_key", "language", "municipality_key"),)

    id: int = Column(Integer, primary_key=True)
    topic_key: str = Column(ForeignKey("topics.key"), nullable=False, index=True)
    language: str = Column(String(8), nullable=False, index=True)
    # None: the county-wide article; otherwise the variant for one municipality
    municipality_key: str | None = Column(ForeignKey("municipalities.key"), nullable=True)
    status: str = Column(String(16), nullable=False, default=STATUS_PUBLISHED)
    title: str = Column(String(300), nullable=False)
    short_answer: str = Column(Text, nullable=False)
    full_text: str = Column(Text, nullable=False)
    documents: list = Column(JSON, nullable=False, default=list)
    steps: list = Column(JSON, nullable=False, default=list)
    links: list = Column(JSON, nullable=False, default=list)  # [{"title": ..., "url": ...}]
    keywords: list = Column(JSON, nullable=False, default=list)
    source_url: str = Column(String(500), nullable=False)
    last_reviewed: dt.date = Column(Date, nullable=False)

    topic: Topic = relationship("Topic")
    # Written row by row by the importer, which keeps the pack's order.
    offices: list[Office] = relationship(
        "Office", secondary=article_offices, order_by=article_offices.c.position, viewonly=True
    )


class ArticleRevision(Base):
    """One save of an article, numbered 1, 2, ... per article."""

    __tablename__ = "article_revisions"
    __table_args__ = (
        UniqueConstraint("article_id", "number"),
        # The database itself keeps the rule of one published revision per article.
        Index(
            "ix_article_revisions_one_published",
            "article_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: int = Column(Integer, primary_key=True)
    article_id: int = Column(ForeignKey("articles.id", ondelete="CASCADE"), nullable=False)
    number: int = Column(Integer, nullable=False)
    status: str = Column(String(16), nullable=False, default=STATUS_DRAFT)
    # Every field staff edit, as bot.knowledge.revisions.Content writes it (dates in ISO form).
    content: dict = Column(JSON, nullable=False)
    # None for pack imports, and once the account is deleted: ``author`` still says who.
    author_id: int | None = Column(ForeignKey("staff_accounts.id", ondelete="SET NULL"), nullable=True)
    author: str = Column(String(254), nullable=False)
    created_at: dt.datetime = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    note: str = Column(Text, nullable=False, default="")
    # A typo fix: it does not make the translations outdated.
    minor: bool = Column(Boolean, nullable=False, default=False)
    # A translation: the source-language article's major revision it follows; None in the source language.
    source_revision: int | None = Column(Integer, nullable=True)
    submitted_by: str | None = Column(String(254), nullable=True)
    submitted_at: dt.datetime | None = Column(DateTime(timezone=True), nullable=True)
    published_by: str | None = Column(String(254), nullable=True)
    published_at: dt.datetime | None = Column(DateTime(timezone=True), nullable=True)

    article: Article = relationship("Article")
