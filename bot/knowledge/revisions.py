"""Article revisions: how staff edit the knowledge base in the console, with a history.

Every save is a numbered revision of one article (topic, language, and the
municipality or None for the whole territory). A revision moves
``draft`` → ``in_review`` → ``published``; publishing makes the one published
before ``superseded`` and copies the content into the ``articles`` row, which
is what the assistant reads, so it answers with it from that moment. Only an
article's latest revision moves: an older draft or review was overtaken by a
later save (``restore`` brings old content back as a new draft).

``superseded`` means "was published, is not any more": a later revision was
published, or a pack import withdrew the article.

The functions take the caller's session and never commit.
"""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from bot.database.base import utcnow
from bot.knowledge.models import (
    STATUS_DRAFT,
    STATUS_IN_REVIEW,
    STATUS_PUBLISHED,
    STATUS_SUPERSEDED,
    Article,
    ArticleRevision,
    Municipality,
    Office,
    Topic,
    article_offices,
)
from bot.knowledge.pack import read_article_fields
from bot.languages import LANGUAGE_CODES, LANGUAGES_BY_CODE, LOCAL_LANGUAGE

DRAFT, IN_REVIEW, PUBLISHED, SUPERSEDED = STATUS_DRAFT, STATUS_IN_REVIEW, STATUS_PUBLISHED, STATUS_SUPERSEDED
# The author of the revisions `kb import` writes; anyone else is staff.
PACK_IMPORT = "pack import"

UP_TO_DATE, OUTDATED, MISSING, REVIEW_OVERDUE, SOURCE = "up_to_date", "outdated", "missing", "review_overdue", "source"


@dataclass(frozen=True)
class ArticleKey:
    topic: str
    language: str
    municipality: str | None = None

    def __str__(self) -> str:
        return "/".join(part for part in (self.topic, self.language, self.municipality) if part)


@dataclass(frozen=True)
class Content:
    title: str
    short_answer: str
    full_text: str
    source_url: str
    last_reviewed: dt.date
    documents: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (title, url)
    offices: tuple[str, ...] = ()  # office keys, in the order newcomers see them
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str  # names the fix, for staff


@dataclass(frozen=True)
class FieldDiff:
    field: str
    lines: list[tuple[str, str]]  # (op, line), op one of "same", "removed", "added"


class InvalidContent(ValueError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))


class Conflict(Exception):
    """Someone saved since the revision an editor started from; nothing was saved.

    ``mine`` is the content that was not saved and ``diff`` goes from
    ``theirs`` to it, so the editor can merge by hand and save against
    ``theirs.number``.
    """

    def __init__(self, theirs: ArticleRevision, mine: Content, diff: list[FieldDiff]):
        self.theirs = theirs
        self.mine = mine
        self.diff = diff
        super().__init__(f"revision {theirs.number} was saved by {theirs.author} in the meantime")


class NotAllowed(Exception):
    """A step the revision's status does not allow; the message says what to do instead."""


@dataclass(frozen=True)
class TranslationStatus:
    key: ArticleKey
    state: str  # UP_TO_DATE, OUTDATED, MISSING, REVIEW_OVERDUE or SOURCE
    latest: int | None
    published: int | None
    reason: str  # for staff


def validate(session: Session, key: ArticleKey, content: Content) -> list[FieldError]:
    """Everything wrong with ``content`` for ``key``, by the pack's rules; [] when it may be saved."""
    return _checked(session, key, content)[1]


def save(
    session: Session,
    key: ArticleKey,
    content: Content,
    *,
    author_id: int | None,
    author: str,
    note: str,
    minor: bool,
    base_revision: int | None,
) -> ArticleRevision:
    """A new draft revision of ``key``, made from revision ``base_revision`` (None: a new article).

    Raises ``InvalidContent`` when the content breaks a rule and ``Conflict``
    when ``base_revision`` is not the latest revision; either way nothing is saved.
    A translation's major revision follows the source article's latest published
    major revision; a minor one keeps what its predecessor followed.
    """
    content, errors = _checked(session, key, content)
    if errors:
        raise InvalidContent(errors)
    article = _article(session, key)
    latest = _latest(session, article) if article else None
    if latest is None and base_revision is not None:
        raise NotAllowed(f"{key} has no revision {base_revision}: it does not exist any more; save it as a new article")
    if latest is not None and latest.number != base_revision:
        raise Conflict(theirs=latest, mine=content, diff=diff(content_of(latest), content))
    # A first revision corrects nothing, so it is never a typo fix.
    minor = minor and latest is not None
    if minor and key.language != LOCAL_LANGUAGE:
        source_revision = latest.source_revision
    else:
        source_revision = _source_revision(session, key)
    return _add_revision(session, key, article, content, author_id=author_id, author=author, note=note, minor=minor, source_revision=source_revision)


def submit(session: Session, key: ArticleKey, number: int, *, actor: str) -> ArticleRevision:
    """Send a draft to review."""
    revision = _movable(session, key, number, DRAFT)
    revision.status = IN_REVIEW
    revision.submitted_by, revision.submitted_at = actor, utcnow()
    session.flush()
    return revision


def publish(session: Session, key: ArticleKey, number: int, *, actor: str) -> ArticleRevision:
    """Publish a revision in review: from now on the assistant answers with it.

    Its content is checked again: an office or municipality may have gone since it was saved.
    """
    revision = _movable(session, key, number, IN_REVIEW)
    content, errors = _checked(session, key, content_of(revision))
    if errors:
        raise InvalidContent(errors)
    _publish(session, revision, content, actor)
    return revision


def restore(session: Session, key: ArticleKey, number: int, *, author_id: int | None, author: str) -> ArticleRevision:
    """A new draft with revision ``number``'s content, following what that revision followed."""
    article = _article(session, key)
    old = _revision(session, article, number) if article else None
    if old is None:
        raise NotAllowed(f"{key} has no revision {number}")
    content, errors = _checked(session, key, content_of(old))
    if errors:
        raise InvalidContent(errors)
    return _add_revision(
        session, key, article, content, author_id=author_id, author=author,
        note=f"restored revision {number}", minor=False, source_revision=old.source_revision,
    )


def revisions(session: Session, key: ArticleKey) -> list[ArticleRevision]:
    """Every revision of ``key``, newest first."""
    query = select(ArticleRevision).join(Article).where(*_matches(key)).order_by(ArticleRevision.number.desc())
    return list(session.execute(query).scalars())


def content_of(revision_or_article: ArticleRevision | Article) -> Content:
    if isinstance(revision_or_article, ArticleRevision):
        return _from_values(revision_or_article.content)
    return content_from(revision_or_article, [office.key for office in revision_or_article.offices])


def content_from(article: Any, offices: list[str]) -> Content:
    """The content of anything with an article's fields: a stored article, or one the pack reader read."""
    return Content(
        title=article.title,
        short_answer=article.short_answer,
        full_text=article.full_text,
        source_url=article.source_url,
        last_reviewed=article.last_reviewed,
        documents=tuple(article.documents),
        steps=tuple(article.steps),
        links=tuple((link["title"], link["url"]) for link in article.links),
        offices=tuple(offices),
        keywords=tuple(article.keywords),
    )


def diff(old: Content, new: Content) -> list[FieldDiff]:
    """Line by line, the fields that differ; lists have one line per item."""
    diffs = []
    for name in (f.name for f in fields(Content)):
        before, after = _lines(getattr(old, name)), _lines(getattr(new, name))
        if before == after:
            continue
        lines: list[tuple[str, str]] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
            if op == "equal":
                lines.extend(("same", line) for line in before[i1:i2])
            else:
                lines.extend(("removed", line) for line in before[i1:i2])
                lines.extend(("added", line) for line in after[j1:j2])
        diffs.append(FieldDiff(field=name, lines=lines))
    return diffs


def translation_status(session: Session, today: dt.date, review_max_age_days: int) -> list[TranslationStatus]:
    """Each topic, for the whole territory and each municipality with a variant of it, in every language.

    When several states hold, the first of these wins: ``missing`` (nothing
    published: newcomers get another language), ``outdated`` (a major revision
    of the source-language article was published after the one the published
    translation follows), ``review_overdue`` (last reviewed more than
    ``review_max_age_days`` ago), then ``source`` for the source language and
    ``up_to_date`` for a translation.
    """
    articles = {_key_of(article): article for article in session.execute(select(Article)).scalars()}
    history = _history(session)
    municipality_order = {key: position for key, position in session.execute(select(Municipality.key, Municipality.position))}
    oldest_allowed = today - dt.timedelta(days=review_max_age_days)
    statuses = []
    for topic in session.execute(select(Topic.key).order_by(Topic.position)).scalars():
        places = sorted({key.municipality for key in articles if key.topic == topic and key.municipality}, key=municipality_order.get)
        for place in [None, *places]:
            source = history.get(ArticleKey(topic, LOCAL_LANGUAGE, place))
            for language in LANGUAGE_CODES:
                key = ArticleKey(topic, language, place)
                article = articles.get(key)
                statuses.append(_status(key, article, history.get(key), source, oldest_allowed, review_max_age_days))
    return statuses


def staff_revisions_since(session: Session, since: dt.datetime) -> list[ArticleRevision]:
    """Revisions staff saved or published after ``since``, oldest first.

    Told apart by author, not ``author_id``: a deleted account leaves its revisions without one.
    """
    query = (
        select(ArticleRevision)
        .where(
            ((ArticleRevision.created_at > since) & (ArticleRevision.author != PACK_IMPORT))
            | ((ArticleRevision.published_at > since) & (ArticleRevision.published_by != PACK_IMPORT))
        )
        .order_by(ArticleRevision.id)
    )
    return list(session.execute(query).scalars())


def import_article(session: Session, key: ArticleKey, content: Content, *, published: bool, note: str) -> ArticleRevision | None:
    """The article as a pack has it: a new revision by ``PACK_IMPORT`` unless it already stands so.

    The pack was validated as a whole, so the content is not checked again.
    A pack's draft withdraws what was published.
    """
    article = _article(session, key)
    current = _published(session, article) if article else None
    latest = _latest(session, article) if article else None
    if published and current is not None and content_of(current) == content:
        return None
    if not published and current is None and latest is not None and content_of(latest) == content:
        return None
    revision = _add_revision(
        session, key, article, content, author_id=None, author=PACK_IMPORT,
        note=note, minor=False, source_revision=_source_revision(session, key),
    )
    if published:
        _publish(session, revision, content, PACK_IMPORT)
    elif current is not None:
        _withdraw(session, revision, current)
    return revision


def withdraw(session: Session, key: ArticleKey, *, note: str) -> ArticleRevision | None:
    """Stop publishing ``key`` (a pack import without it), keeping its history: a new draft of what was published."""
    article = _article(session, key)
    current = _published(session, article) if article else None
    if current is None:
        return None
    revision = _add_revision(
        session, key, article, content_of(current), author_id=None, author=PACK_IMPORT,
        note=note, minor=False, source_revision=current.source_revision,
    )
    _withdraw(session, revision, current)
    return revision


# --- inside ------------------------------------------------------------------


def _checked(session: Session, key: ArticleKey, content: Content) -> tuple[Content, list[FieldError]]:
    """``content`` as the pack reader reads it (trimmed), and what is wrong with it."""
    read, problems = read_article_fields(_values(content))
    errors = [FieldError(field, message) for field, message in problems]
    if session.get(Topic, key.topic) is None:
        errors.append(FieldError("topic", f"there is no topic '{key.topic}': choose one from the list of topics"))
    if key.language not in LANGUAGE_CODES:
        errors.append(FieldError("language", f"'{key.language}' is not a supported language: choose one of {', '.join(LANGUAGE_CODES)}"))
    if key.municipality is not None:
        if session.get(Municipality, key.municipality) is None:
            errors.append(FieldError("municipality", f"there is no municipality '{key.municipality}': choose one from the list, or none for the whole territory"))
        elif _article(session, ArticleKey(key.topic, key.language, None), lock=False) is None:
            # A pack writes a variant as the differences from that article: it cannot stand alone.
            errors.append(FieldError("municipality", f"write the article for the whole territory in '{key.language}' first, then the variant for {key.municipality}"))
    known = set(session.execute(select(Office.key).where(Office.key.in_(content.offices))).scalars())
    seen: set[str] = set()
    for office in content.offices:
        if office not in known:
            errors.append(FieldError("offices", f"there is no office '{office}': remove it or choose one from the list of offices"))
        elif office in seen:
            errors.append(FieldError("offices", f"office '{office}' is listed twice: keep one"))
        seen.add(office)
    return (content if errors else _from_values(read)), errors


def _values(content: Content) -> dict[str, Any]:
    """``content`` as stored in a revision: JSON, dates in ISO form."""
    return {
        "title": content.title,
        "short_answer": content.short_answer,
        "full_text": content.full_text,
        "source_url": content.source_url,
        "last_reviewed": content.last_reviewed.isoformat(),
        "documents": list(content.documents),
        "steps": list(content.steps),
        "links": [{"title": title, "url": url} for title, url in content.links],
        "offices": list(content.offices),
        "keywords": list(content.keywords),
    }


def _from_values(values: dict[str, Any]) -> Content:
    last_reviewed = values["last_reviewed"]
    return Content(
        title=values["title"],
        short_answer=values["short_answer"],
        full_text=values["full_text"],
        source_url=values["source_url"],
        last_reviewed=last_reviewed if isinstance(last_reviewed, dt.date) else dt.date.fromisoformat(last_reviewed),
        documents=tuple(values["documents"]),
        steps=tuple(values["steps"]),
        links=tuple((link["title"], link["url"]) for link in values["links"]),
        offices=tuple(values["offices"]),
        keywords=tuple(values["keywords"]),
    )


def _lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.splitlines()
    if isinstance(value, dt.date):
        return [value.isoformat()]
    return [f"{item[0]} <{item[1]}>" if isinstance(item, tuple) else item for item in value]


def _matches(key: ArticleKey) -> list:
    municipality = Article.municipality_key.is_(None) if key.municipality is None else Article.municipality_key == key.municipality
    return [Article.topic_key == key.topic, Article.language == key.language, municipality]


def _key_of(article: Article) -> ArticleKey:
    return ArticleKey(article.topic_key, article.language, article.municipality_key)


def _article(session: Session, key: ArticleKey, *, lock: bool = True) -> Article | None:
    query = select(Article).where(*_matches(key))
    if lock:
        # Two staff saving one article at once: on PostgreSQL the second waits here, then sees the first's revision.
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def _latest(session: Session, article: Article) -> ArticleRevision | None:
    query = select(ArticleRevision).where(ArticleRevision.article_id == article.id).order_by(ArticleRevision.number.desc()).limit(1)
    return session.execute(query).scalar_one_or_none()


def _published(session: Session, article: Article) -> ArticleRevision | None:
    query = select(ArticleRevision).where(ArticleRevision.article_id == article.id, ArticleRevision.status == PUBLISHED)
    return session.execute(query).scalar_one_or_none()


def _revision(session: Session, article: Article, number: int) -> ArticleRevision | None:
    query = select(ArticleRevision).where(ArticleRevision.article_id == article.id, ArticleRevision.number == number)
    return session.execute(query).scalar_one_or_none()


def _movable(session: Session, key: ArticleKey, number: int, status: str) -> ArticleRevision:
    article = _article(session, key)
    revision = _revision(session, article, number) if article else None
    if revision is None:
        raise NotAllowed(f"{key} has no revision {number}")
    latest = _latest(session, article)
    if revision.number != latest.number:
        raise NotAllowed(f"revision {number} of {key} was overtaken by revision {latest.number}: work on that one, or restore {number} as a new draft")
    if revision.status != status:
        raise NotAllowed(f"revision {number} of {key} is {revision.status.replace('_', ' ')}, not {status.replace('_', ' ')}")
    return revision


def _source_revision(session: Session, key: ArticleKey) -> int | None:
    """For a translation: the source article's latest published major revision, which it now follows."""
    if key.language == LOCAL_LANGUAGE:
        return None
    query = (
        select(func.max(ArticleRevision.number))
        .join(Article)
        .where(*_matches(ArticleKey(key.topic, LOCAL_LANGUAGE, key.municipality)))
        .where(ArticleRevision.minor.is_(False), ArticleRevision.published_at.is_not(None))
    )
    return session.execute(query).scalar_one()


def _add_revision(session: Session, key: ArticleKey, article: Article | None, content: Content, **details: Any) -> ArticleRevision:
    """A new draft; while nothing is published, the ``articles`` row mirrors the latest revision."""
    latest = _latest(session, article) if article else None
    if article is None:
        # The assistant reads published articles only: a new one stays hidden until its first publish.
        article = Article(topic_key=key.topic, language=key.language, municipality_key=key.municipality, status=DRAFT)
        session.add(article)
    if article.status != PUBLISHED:
        _copy_to_article(session, article, content)
    number = latest.number + 1 if latest else 1
    revision = ArticleRevision(article=article, number=number, status=DRAFT, content=_values(content), created_at=utcnow(), **details)
    session.add(revision)
    session.flush()
    return revision


def _publish(session: Session, revision: ArticleRevision, content: Content, actor: str) -> None:
    previous = _published(session, revision.article)
    if previous is not None:
        previous.status = SUPERSEDED
        # Before the new one is published: the database allows one published revision per article.
        session.flush()
    revision.status = PUBLISHED
    revision.published_by, revision.published_at = actor, utcnow()
    revision.article.status = PUBLISHED
    _copy_to_article(session, revision.article, content)
    session.flush()


def _withdraw(session: Session, revision: ArticleRevision, current: ArticleRevision) -> None:
    current.status = SUPERSEDED
    revision.article.status = DRAFT
    _copy_to_article(session, revision.article, content_of(revision))
    session.flush()


def _copy_to_article(session: Session, article: Article, content: Content) -> None:
    """What the assistant reads; its offices in ``article_offices``, in order."""
    article.title = content.title
    article.short_answer = content.short_answer
    article.full_text = content.full_text
    article.source_url = content.source_url
    article.last_reviewed = content.last_reviewed
    article.documents = list(content.documents)
    article.steps = list(content.steps)
    article.links = [{"title": title, "url": url} for title, url in content.links]
    article.keywords = list(content.keywords)
    session.flush()
    session.execute(delete(article_offices).where(article_offices.c.article_id == article.id))
    if content.offices:
        session.execute(
            insert(article_offices),
            [{"article_id": article.id, "office_key": office, "position": position} for position, office in enumerate(content.offices)],
        )
    session.expire(article, ["offices"])


@dataclass(frozen=True)
class _History:
    latest: int
    latest_status: str
    published: ArticleRevision | None
    # The latest major revision ever published: what translations are measured against.
    latest_major_published: int | None


def _history(session: Session) -> dict[ArticleKey, _History]:
    rows = session.execute(select(ArticleRevision, Article).join(Article).order_by(ArticleRevision.number)).all()
    found: dict[ArticleKey, _History] = {}
    for revision, article in rows:
        key = _key_of(article)
        before = found.get(key)
        major = revision.number if not revision.minor and revision.published_at is not None else None
        found[key] = _History(
            latest=revision.number,
            latest_status=revision.status,
            published=revision if revision.status == PUBLISHED else (before.published if before else None),
            latest_major_published=major or (before.latest_major_published if before else None),
        )
    return found


def _status(
    key: ArticleKey,
    article: Article | None,
    history: _History | None,
    source: _History | None,
    oldest_allowed: dt.date,
    max_age_days: int,
) -> TranslationStatus:
    language = LANGUAGES_BY_CODE[key.language].english_name
    where = f" for {key.municipality}" if key.municipality else ""
    latest = history.latest if history else None
    published = history.published if history else None

    def status(state: str, reason: str) -> TranslationStatus:
        return TranslationStatus(key=key, state=state, latest=latest, published=published.number if published else None, reason=reason)

    if article is None or history is None:
        return status(MISSING, f"there is no {language} article{where} yet: write one")
    if published is None:
        waiting = "waiting for review" if history.latest_status == IN_REVIEW else "a draft"
        return status(MISSING, f"revision {latest} is {waiting}: newcomers read it once it is published")
    followed = published.source_revision
    if key.language != LOCAL_LANGUAGE and source and source.latest_major_published and source.latest_major_published > (followed or 0):
        since = f"revision {followed}" if followed else "before it was published"
        source_language = LANGUAGES_BY_CODE[LOCAL_LANGUAGE].english_name
        return status(
            OUTDATED,
            f"the {source_language} article changed in revision {source.latest_major_published}; this translation follows {since}: update it",
        )
    if article.last_reviewed < oldest_allowed:
        return status(
            REVIEW_OVERDUE,
            f"last reviewed on {article.last_reviewed}, more than {max_age_days} days ago: check it against {article.source_url} and save it with the new date",
        )
    if key.language == LOCAL_LANGUAGE:
        return status(SOURCE, "the original the translations follow")
    if followed is None:
        return status(UP_TO_DATE, "there is no published source article to follow")
    return status(UP_TO_DATE, f"follows revision {followed} of the source article")
