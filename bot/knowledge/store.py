"""Writing a validated pack into the database, and reading it back out.

``replace_content`` swaps the whole knowledge base in one transaction: a failure
at any point rolls back and leaves what was stored untouched.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bot.knowledge.models import (
    Article,
    Municipality,
    MunicipalityAlias,
    Office,
    PackInfo,
    Topic,
    article_offices,
    office_topics,
)
from bot.knowledge.pack import ArticleData, MunicipalityData, OfficeData, Pack, TopicData
from bot.textfold import fold


def replace_content(session: Session, pack: Pack) -> None:
    """Replace everything stored with ``pack``; the caller's transaction makes it atomic."""
    for table in (article_offices, office_topics):
        session.execute(delete(table))
    for model in (Article, Office, MunicipalityAlias, Municipality, Topic, PackInfo):
        session.execute(delete(model))
    session.flush()

    session.add(
        PackInfo(
            id=1,
            name=pack.name,
            description=pack.description,
            review_max_age_days=pack.review_max_age_days,
            imported_at=dt.datetime.now(dt.timezone.utc),
        )
    )
    topics = {}
    for position, topic in enumerate(pack.topics):
        topics[topic.key] = Topic(key=topic.key, icon=topic.icon, sensitive=topic.sensitive, position=position)
    session.add_all(topics.values())
    for position, municipality in enumerate(pack.municipalities):
        row = Municipality(key=municipality.key, name=municipality.name, position=position)
        row.aliases = [
            MunicipalityAlias(alias=alias, normalised=fold(alias), position=index)
            for index, alias in enumerate(_unique([municipality.name, *municipality.aliases]))
        ]
        session.add(row)
    for position, office in enumerate(pack.offices):
        session.add(
            Office(
                key=office.key,
                name=office.name,
                municipality_key=office.municipality,
                address=office.address,
                latitude=office.latitude,
                longitude=office.longitude,
                phone=office.phone,
                email=office.email,
                url=office.url,
                opening_hours=office.opening_hours,
                languages=office.languages,
                sample=office.sample,
                position=position,
                topics=[topics[key] for key in office.topics],
            )
        )
    session.flush()
    for article in pack.articles:
        row = Article(
            topic_key=article.topic,
            language=article.language,
            municipality_key=article.municipality,
            status=article.status,
            title=article.title,
            short_answer=article.short_answer,
            full_text=article.full_text,
            documents=article.documents,
            steps=article.steps,
            links=article.links,
            keywords=article.keywords,
            source_url=article.source_url,
            last_reviewed=article.last_reviewed,
        )
        session.add(row)
        session.flush()
        if article.offices:
            session.execute(
                insert(article_offices),
                [{"article_id": row.id, "office_key": key, "position": index} for index, key in enumerate(article.offices)],
            )
    session.flush()


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
