"""What the assistant reads from the knowledge base to answer a newcomer."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge.models import STATUS_PUBLISHED, Article, Municipality, MunicipalityAlias, Office, PackInfo, Topic
from bot.textfold import fold


@dataclass(frozen=True)
class Found:
    article: Article
    # True when the article is in another language than the one asked for
    in_other_language: bool


def territory_name(session: Session) -> str:
    info = session.get(PackInfo, 1)
    return info.name if info else ""


def topic(session: Session, key: str) -> Topic | None:
    return session.get(Topic, key)


def topics(session: Session) -> list[Topic]:
    return list(session.execute(select(Topic).order_by(Topic.position)).scalars())


def has_municipal_variants(session: Session, topic_key: str) -> bool:
    query = select(Article.id).where(Article.topic_key == topic_key, Article.municipality_key.is_not(None)).limit(1)
    return session.execute(query).first() is not None


def find_article(session: Session, topic_key: str, languages: list[str], municipality: str | None) -> Found | None:
    """The published article for the topic in the first of ``languages`` that has one.

    The municipality's own variant is preferred over the county-wide article
    in the same language.
    """
    query = select(Article).where(Article.topic_key == topic_key, Article.status == STATUS_PUBLISHED)
    candidates = session.execute(query).scalars().all()
    for rank, language in enumerate(languages):
        in_language = [article for article in candidates if article.language == language]
        for wanted in (municipality, None):
            for article in in_language:
                if article.municipality_key == wanted:
                    return Found(article=article, in_other_language=rank > 0)
    return None


def municipalities(session: Session) -> list[Municipality]:
    return list(session.execute(select(Municipality).order_by(Municipality.position)).scalars())


def municipality(session: Session, key: str | None) -> Municipality | None:
    return session.get(Municipality, key) if key else None


def match_municipality(session: Session, text: str) -> str | None:
    """The municipality a message names ("visc a torello", "я живу у Віку"), if any.

    Whole words only, longest alias first, so "Sant Quirze" never matches "Sant".
    """
    folded = f" {fold(text)} "
    if not folded.strip():
        return None
    aliases = session.execute(select(MunicipalityAlias.normalised, MunicipalityAlias.municipality_key)).all()
    for alias, key in sorted(aliases, key=lambda row: -len(row[0])):
        if alias and f" {alias} " in folded:
            return key
        # Ukrainian, Russian and Greek inflect place names ("у Віку", "в Вике"):
        # accept an ending of up to two letters there. Latin-script languages
        # do not, and there a prefix would turn "vicio" into Vic.
        if len(alias) >= 3 and not alias.isascii() and any(
            word.startswith(alias) and len(word) - len(alias) <= 2 for word in folded.split()
        ):
            return key
    return None


def mediation_office(session: Session) -> Office | None:
    """The office newcomers are sent to for a person: the one serving the mediation topic."""
    for office in session.execute(select(Office).order_by(Office.position)).scalars():
        if any(t.key == "mediation" for t in office.topics):
            return office
    return None
