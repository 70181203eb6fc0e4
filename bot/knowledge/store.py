"""Writing a validated pack into the database, and reading it back out.

``replace_content`` makes the knowledge base what the pack says in one
transaction: a failure at any point rolls back and leaves what was stored
untouched. Articles are not wiped: each one the pack changes gets a published
revision by "pack import", so the console's history stays. An article the
pack no longer has is withdrawn, kept as a draft with its history, because it
may be console work the pack never had (a new translation) and staff can
publish it again; only articles whose topic or municipality left the pack are
deleted, since nothing could show them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bot.database.base import as_utc, utcnow
from bot.knowledge import revisions
from bot.knowledge.models import (
    Article,
    ArticleRevision,
    Municipality,
    MunicipalityAlias,
    Office,
    PackInfo,
    Topic,
    article_offices,
)
from bot.knowledge.pack import ArticleData, MunicipalityData, OfficeData, Pack, TopicData
from bot.knowledge.revisions import ArticleKey, Content
from bot.languages import LOCAL_LANGUAGE
from bot.textfold import fold

OVERWRITE_FLAG = "--overwrite-console-changes"


class ConsoleChanges(Exception):
    """Staff changed articles since the last import or export, and the import would overwrite them."""

    def __init__(self, changed: list[ArticleRevision]):
        self.revisions = changed
        done: dict[ArticleKey, list[str]] = {}
        for revision in changed:
            article = revision.article
            key = ArticleKey(article.topic_key, article.language, article.municipality_key)
            if revision.author != revisions.PACK_IMPORT:
                done.setdefault(key, []).append(f"revision {revision.number} saved by {revision.author}")
            if revision.published_by not in (None, revisions.PACK_IMPORT):
                done.setdefault(key, []).append(f"revision {revision.number} published by {revision.published_by}")
        super().__init__(
            "staff changed these articles in the console since the last import or export:\n"
            + "".join(f"  {key}: {', '.join(what)}\n" for key, what in done.items())
            + f"export them first and merge the export into the pack, or pass {OVERWRITE_FLAG} "
            "to publish the pack over them (their revisions stay in the history)"
        )


@dataclass(frozen=True)
class ImportReport:
    changed: list[ArticleKey]  # given a new revision
    withdrawn: list[ArticleKey]  # no longer in the pack: kept as drafts


def replace_content(session: Session, pack: Pack, *, overwrite_console_changes: bool = False) -> ImportReport:
    """Make the stored knowledge ``pack``; the caller's transaction makes it atomic.

    Raises ``ConsoleChanges`` when staff saved or published a revision since the
    last import or export, unless ``overwrite_console_changes``.
    """
    info = session.get(PackInfo, 1)
    if info is not None and not overwrite_console_changes:
        since = max(as_utc(moment) for moment in (info.imported_at, info.exported_at) if moment)
        changed = revisions.staff_revisions_since(session, since)
        if changed:
            raise ConsoleChanges(changed)
    _remove_what_left(session, pack)
    if info is None:
        info = PackInfo(id=1)
        session.add(info)
    info.name = pack.name
    info.description = pack.description
    info.review_max_age_days = pack.review_max_age_days
    info.imported_at = utcnow()
    _write_places(session, pack)
    return _write_articles(session, pack)


def record_export(session: Session, at: dt.datetime) -> None:
    """Remember that the knowledge as it stood ``at`` was exported: later console work is what an import would overwrite."""
    info = session.get(PackInfo, 1)
    if info is not None:
        info.exported_at = at


def _remove_what_left(session: Session, pack: Pack) -> None:
    """Delete the topics, municipalities and offices the pack no longer has, with the articles about them."""
    topics = [topic.key for topic in pack.topics]
    municipalities = [municipality.key for municipality in pack.municipalities]
    orphaned = select(Article.id).where(
        Article.topic_key.not_in(topics) | (Article.municipality_key.is_not(None) & Article.municipality_key.not_in(municipalities))
    )
    statements = [
        # In foreign key order rather than by cascade, as the import always did.
        delete(ArticleRevision).where(ArticleRevision.article_id.in_(orphaned)),
        delete(article_offices).where(article_offices.c.article_id.in_(orphaned)),
        delete(Article).where(Article.id.in_(orphaned)),
        delete(Office).where(Office.key.not_in([office.key for office in pack.offices])),
        # Aliases are rewritten from the pack; deleting them first keeps their unique constraint.
        delete(MunicipalityAlias),
        delete(Municipality).where(Municipality.key.not_in(municipalities)),
        delete(Topic).where(Topic.key.not_in(topics)),
    ]
    for statement in statements:
        # The session forgets every loaded row below instead.
        session.execute(statement, execution_options={"synchronize_session": False})
    session.expire_all()


def _write_places(session: Session, pack: Pack) -> None:
    """Topics, municipalities and offices, updated in place: articles refer to them."""
    topics = {}
    for position, data in enumerate(pack.topics):
        topic = _row(session, Topic, data.key)
        topic.icon, topic.sensitive, topic.position = data.icon, data.sensitive, position
        topics[data.key] = topic
    for position, data in enumerate(pack.municipalities):
        municipality = _row(session, Municipality, data.key)
        municipality.name, municipality.position = data.name, position
    session.flush()
    aliases = [
        {"municipality_key": data.key, "alias": alias, "normalised": fold(alias), "position": index}
        for data in pack.municipalities
        for index, alias in enumerate(_unique([data.name, *data.aliases]))
    ]
    if aliases:
        session.execute(insert(MunicipalityAlias), aliases)
    for position, data in enumerate(pack.offices):
        office = _row(session, Office, data.key)
        office.name = data.name
        office.municipality_key = data.municipality
        office.address = data.address
        office.latitude, office.longitude = data.latitude, data.longitude
        office.phone, office.email, office.url = data.phone, data.email, data.url
        office.opening_hours = data.opening_hours
        office.languages = data.languages
        office.sample = data.sample
        office.position = position
        office.topics = [topics[key] for key in data.topics]
    session.flush()


def _row(session: Session, model: type, key: str):
    """The stored row with primary key ``key``, or a new one."""
    row = session.get(model, key)
    if row is None:
        row = model(key=key)
        session.add(row)
    return row


def _write_articles(session: Session, pack: Pack) -> ImportReport:
    note = f"imported from the pack {pack.name}"
    changed = []
    # Source-language articles first, so that a translation follows the source revision this import publishes.
    for data in sorted(pack.articles, key=lambda article: article.language != LOCAL_LANGUAGE):
        key = ArticleKey(*data.identity)
        if revisions.import_article(session, key, _content(data), published=data.status == revisions.PUBLISHED, note=note):
            changed.append(key)
    in_pack = {data.identity for data in pack.articles}
    withdrawn = []
    for article in session.execute(select(Article).order_by(Article.id)).scalars().all():
        key = ArticleKey(article.topic_key, article.language, article.municipality_key)
        if (key.topic, key.language, key.municipality) not in in_pack and revisions.withdraw(session, key, note=f"not in the pack {pack.name}: withdrawn"):
            withdrawn.append(key)
    session.flush()
    return ImportReport(changed=changed, withdrawn=withdrawn)


def _content(article: ArticleData) -> Content:
    return revisions.content_from(article, article.offices)


def read_content(session: Session) -> Pack:
    """The stored knowledge base as a ``Pack``, in the order it was imported."""
    info = session.get(PackInfo, 1)
    if info is None:
        raise LookupError("the knowledge base is empty: run `acollida kb import PATH` first")
    topics = session.execute(select(Topic).order_by(Topic.position)).scalars().all()
    municipalities = session.execute(select(Municipality).order_by(Municipality.position)).scalars().all()
    offices = session.execute(select(Office).order_by(Office.position)).scalars().all()
    articles = session.execute(select(Article).order_by(Article.id)).scalars().all()
    return Pack(
        name=info.name,
        description=info.description,
        review_max_age_days=info.review_max_age_days,
        topics=[TopicData(key=t.key, icon=t.icon, sensitive=t.sensitive) for t in topics],
        municipalities=[
            MunicipalityData(
                key=m.key,
                name=m.name,
                aliases=[alias.alias for alias in m.aliases if alias.alias != m.name],
            )
            for m in municipalities
        ],
        offices=[
            OfficeData(
                key=o.key,
                name=o.name,
                address=o.address,
                municipality=o.municipality_key,
                latitude=o.latitude,
                longitude=o.longitude,
                phone=o.phone,
                email=o.email,
                url=o.url,
                opening_hours=list(o.opening_hours),
                languages=list(o.languages),
                topics=[topic.key for topic in o.topics],
                sample=o.sample,
            )
            for o in offices
        ],
        articles=[
            ArticleData(
                topic=a.topic_key,
                language=a.language,
                municipality=a.municipality_key,
                status=a.status,
                title=a.title,
                short_answer=a.short_answer,
                full_text=a.full_text,
                documents=list(a.documents),
                steps=list(a.steps),
                links=list(a.links),
                offices=[office.key for office in a.offices],
                keywords=list(a.keywords),
                source_url=a.source_url,
                last_reviewed=a.last_reviewed,
            )
            for a in articles
        ],
    )


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))
