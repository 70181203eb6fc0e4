"""The knowledge base tables: topics, articles, municipalities, offices.

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
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from bot.database.base import Base, metadata

STATUS_DRAFT = "draft"
STATUS_PUBLISHED = "published"
ARTICLE_STATUSES = (STATUS_DRAFT, STATUS_PUBLISHED)

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
