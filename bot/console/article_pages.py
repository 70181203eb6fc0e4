"""Articles, for staff: which topic is written, missing or outdated in which language, and editing one as revisions.

Editors and reviewers save drafts (each a numbered revision with a note;
"minor" for a typo fix, which leaves the translations up to date) and send
them for review; reviewers publish, and from that moment the assistant
answers with the revision. A save made from an older revision than the latest
saves nothing and shows what the latest changed, so that nobody's work is
overwritten. Admins read. Every change is in the audit log.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot import settings
from bot.console import accounts, audit
from bot.console.guards import notify, now, requires
from bot.console.models import ROLE_EDITOR, ROLE_REVIEWER, ROLES
from bot.console.pages import render
from bot.database.base import as_utc
from bot.database.sessions import in_thread
from bot.knowledge import revisions
from bot.knowledge.models import Article, Municipality, Office, PackInfo, Topic
from bot.knowledge.revisions import ArticleKey, Content, FieldDiff, FieldError, TranslationStatus
from bot.languages import LANGUAGES_BY_CODE, LOCAL_LANGUAGE, SUPPORTED_LANGUAGES, Language

EDITING = (ROLE_EDITOR, ROLE_REVIEWER)
PUBLISHING = (ROLE_REVIEWER,)
WHOLE_TERRITORY = "all"  # the address's place for the article that is not a municipality's variant
FIELDS = {
    "title": "Title",
    "short_answer": "Short answer",
    "full_text": "Full text",
    "documents": "Documents to bring",
    "steps": "Steps",
    "links": "Links",
    "offices": "Offices",
    "keywords": "Keywords",
    "source_url": "Official source",
    "last_reviewed": "Last reviewed",
}
LIST_FIELDS = ("documents", "steps", "keywords", "offices")
LABELS = {**FIELDS, "topic": "Topic", "language": "Language", "municipality": "Municipality"}
STATE_LABELS = {
    revisions.SOURCE: "source",
    revisions.UP_TO_DATE: "up to date",
    revisions.OUTDATED: "outdated",
    revisions.MISSING: "missing",
    revisions.REVIEW_OVERDUE: "review due",
}
STATUS_LABELS = {revisions.DRAFT: "draft", revisions.IN_REVIEW: "in review", revisions.PUBLISHED: "published", revisions.SUPERSEDED: "superseded"}


@dataclass(frozen=True)
class Revision:
    """A revision as the pages show it: plain values, usable after its session closed."""

    number: int
    status: str
    author: str
    created_at: dt.datetime
    note: str
    minor: bool
    content: Content

    @classmethod
    def of(cls, revision) -> Revision:
        return cls(revision.number, revision.status, revision.author, as_utc(revision.created_at), revision.note, revision.minor,
                   revisions.content_of(revision))


@dataclass(frozen=True)
class Place:
    key: str | None
    name: str
    rows: list[tuple[str, str, list[TranslationStatus]]]  # (topic, its Catalan title, a status per language)


@dataclass(frozen=True)
class ArticleView:
    key: ArticleKey
    language: Language
    place_name: str
    status: TranslationStatus | None
    history: list[Revision]  # newest first
    source: Revision | None  # the Catalan article a translation follows (published, else latest)
    offices: list[tuple[str, str]]  # every office: (key, name)


@dataclass(frozen=True)
class Conflicted:
    theirs: Revision
    diff: list[FieldDiff]


def article_path(key: ArticleKey) -> str:
    return f"/articles/{key.topic}/{key.language}/{key.municipality or WHOLE_TERRITORY}"


def _today(request: Request) -> dt.date:
    return now(request).astimezone(ZoneInfo(request.app.state.config.timezone)).date()


def _statuses(session, today: dt.date) -> list[TranslationStatus] | None:
    pack = session.execute(select(PackInfo)).scalars().first()
    if pack is None:
        return None
    return revisions.translation_status(session, today, settings.review_max_age_days(pack.review_max_age_days))


def _municipality_names(session) -> dict[str, str]:
    return dict(session.execute(select(Municipality.key, Municipality.name)).all())


# --- the matrix --------------------------------------------------------------------------------


def _matrix(session, today: dt.date) -> list[Place] | None:
    statuses = _statuses(session, today)
    if statuses is None:
        return None
    names = _municipality_names(session)
    titles = dict(session.execute(
        select(Article.topic_key, Article.title).where(Article.language == LOCAL_LANGUAGE, Article.municipality_key.is_(None))
    ).all())
    places: dict[str | None, dict[str, list[TranslationStatus]]] = {}
    for status in statuses:  # topic by topic, place by place, language by language
        places.setdefault(status.key.municipality, {}).setdefault(status.key.topic, []).append(status)
    return [
        Place(place, names.get(place, place) if place else "Whole territory",
              [(topic, titles.get(topic, ""), cells) for topic, cells in rows.items()])
        for place, rows in places.items()
    ]


@requires(*ROLES)
async def matrix(request: Request) -> Response:
    places = await in_thread(request.app.state.engine, _matrix, _today(request))
    counts: dict[str, int] = {}
    for place in places or []:
        for _, _, cells in place.rows:
            for cell in cells:
                counts[cell.state] = counts.get(cell.state, 0) + 1
    return render(request, "articles.html", places=places, counts=counts, languages=SUPPORTED_LANGUAGES,
                  state_labels=STATE_LABELS, article_path=article_path)


# --- one article -------------------------------------------------------------------------------


def _key(request: Request) -> ArticleKey:
    place = request.path_params["place"]
    return ArticleKey(request.path_params["topic"], request.path_params["language"], None if place == WHOLE_TERRITORY else place)


def _view(session, key: ArticleKey, today: dt.date) -> ArticleView | None:
    names = _municipality_names(session)
    if session.get(Topic, key.topic) is None or key.language not in LANGUAGES_BY_CODE or (key.municipality and key.municipality not in names):
        return None
    status = next((status for status in _statuses(session, today) or [] if status.key == key), None)
    source = None
    if key.language != LOCAL_LANGUAGE:
        # A municipality's variant follows the Catalan variant when there is one, else the Catalan article for the territory.
        for source_key in (ArticleKey(key.topic, LOCAL_LANGUAGE, key.municipality), ArticleKey(key.topic, LOCAL_LANGUAGE)):
            found = revisions.revisions(session, source_key)
            if found:
                source = Revision.of(next((revision for revision in found if revision.status == revisions.PUBLISHED), found[0]))
                break
    offices = list(session.execute(select(Office.key, Office.name).order_by(Office.position, Office.key)).all())
    return ArticleView(
        key, LANGUAGES_BY_CODE[key.language], names[key.municipality] if key.municipality else "Whole territory", status,
        [Revision.of(revision) for revision in revisions.revisions(session, key)], source, offices,
    )


def form_values(content: Content | None) -> dict[str, str]:
    """The form's fields for some content: lists one item per line, links as 'title | address'."""
    if content is None:
        return {name: "" for name in FIELDS}
    values = {name: "\n".join(getattr(content, name)) for name in LIST_FIELDS}
    values.update(
        title=content.title, short_answer=content.short_answer, full_text=content.full_text, source_url=content.source_url,
        last_reviewed=content.last_reviewed.isoformat(), links="\n".join(f"{title} | {url}" for title, url in content.links),
    )
    return values


def read_form(form: FormData, today: dt.date) -> tuple[dict[str, str], Content, list[FieldError]]:
    """(what was typed, the content it makes, what the form itself cannot read); the content is for checking only when there are errors."""
    typed = {name: str(form.get(name, "")).replace("\r\n", "\n") for name in FIELDS}
    errors = []
    try:
        last_reviewed = dt.date.fromisoformat(typed["last_reviewed"].strip())
    except ValueError:
        errors.append(FieldError("last_reviewed", "write the day you checked it against the official source, as YYYY-MM-DD"))
        last_reviewed = today
    links = []
    for line in filter(str.strip, typed["links"].split("\n")):
        title, separator, url = line.partition("|")
        if not separator:
            errors.append(FieldError("links", f"write each link as 'title | https://…', one per line (not understood: {line.strip()!r})"))
            break
        links.append((title.strip(), url.strip()))
    lists = {name: tuple(line.strip() for line in typed[name].split("\n") if line.strip()) for name in LIST_FIELDS}
    content = Content(title=typed["title"], short_answer=typed["short_answer"], full_text=typed["full_text"], source_url=typed["source_url"],
                      last_reviewed=last_reviewed, links=tuple(links), **lists)
    return typed, content, errors


async def _page(request: Request, key: ArticleKey, status_code: int = 200, *, typed: dict[str, str] | None = None,
                errors: list[FieldError] = (), note: str = "", minor: bool = False, base: int | None = None,
                conflict: Conflicted | None = None, problem: str | None = None) -> Response:
    view = await in_thread(request.app.state.engine, _view, key, _today(request))
    if view is None:
        raise HTTPException(404, "There is no such topic, language or municipality. Open the article from the list of articles.")
    latest = view.history[0] if view.history else None
    if typed is None:
        # A new translation starts with what the Catalan article says about where to go and what to read.
        starting = latest.content if latest else None
        typed = form_values(starting)
        if starting is None and view.source is not None:
            typed.update(source_url=view.source.content.source_url, offices="\n".join(view.source.content.offices))
    return render(
        request, "article.html", status_code, view=view, latest=latest, typed=typed, labels=LABELS, fields=FIELDS,
        errors={error.field: error.message for error in errors}, error_list=list(errors), note=note, minor=minor,
        base=base if base is not None else (latest.number if latest else None), conflict=conflict, problem=problem,
        may_edit=request.state.staff.role in EDITING, may_publish=request.state.staff.role in PUBLISHING,
        state_labels=STATE_LABELS, status_labels=STATUS_LABELS, path=article_path(view.key), source_language=LANGUAGES_BY_CODE[LOCAL_LANGUAGE],
    )


@requires(*ROLES)
async def show(request: Request) -> Response:
    return await _page(request, _key(request))


def _save(session, key: ArticleKey, content: Content, form_errors: list[FieldError], staff_id: int, note: str, minor: bool, base: int | None):
    actor = accounts.by_id(session, staff_id)
    if form_errors:
        read = {error.field for error in form_errors}
        return form_errors + [error for error in revisions.validate(session, key, content) if error.field not in read]
    try:
        saved = revisions.save(session, key, content, author_id=actor.id, author=actor.email, note=note, minor=minor, base_revision=base)
    except revisions.InvalidContent as error:
        return error.errors
    except revisions.Conflict as conflict:
        return Conflicted(Revision.of(conflict.theirs), conflict.diff)
    audit.record(session, actor, "article.save", f"article {key}", {"revision": saved.number, "note": note, "minor": saved.minor})
    return saved.number


@requires(*EDITING)
async def save(request: Request, form: FormData) -> Response:
    key = _key(request)
    typed, content, form_errors = read_form(form, _today(request))
    note, minor = str(form.get("note", "")).strip(), form.get("minor") == "yes"
    base_field = str(form.get("base_revision", ""))
    if base_field and not base_field.isdigit():
        raise HTTPException(400, "The form names no revision it was started from: reload the article and edit it again.")
    base = int(base_field) if base_field else None
    outcome = await in_thread(request.app.state.engine, _save, key, content, form_errors, request.state.staff.id, note, minor, base)
    if isinstance(outcome, Conflicted):
        # The form keeps what was typed and now builds on theirs: saving again is a decision taken with the difference in view.
        return await _page(request, key, 409, typed=typed, note=note, minor=minor, base=outcome.theirs.number, conflict=outcome)
    if isinstance(outcome, list):
        return await _page(request, key, 400, typed=typed, errors=outcome, note=note, minor=minor, base=base)
    notify(request, f"Saved as revision {outcome}, a draft. Send it for review when it is ready.")
    return RedirectResponse(article_path(key), status_code=303)


def _revision_number(form: FormData) -> int:
    number = str(form.get("revision", ""))
    if not number.isdigit():
        raise HTTPException(400, "The form names no revision: reload the article and use its buttons.")
    return int(number)


def _step(session, key: ArticleKey, step: str, number: int, staff_id: int):
    """Submit, publish or restore; returns the revision's number, or why it was not possible."""
    actor = accounts.by_id(session, staff_id)
    try:
        if step == "restore":
            revision = revisions.restore(session, key, number, author_id=actor.id, author=actor.email)
        else:
            revision = getattr(revisions, step)(session, key, number, actor=actor.email)
    except revisions.NotAllowed as error:
        return str(error)
    except revisions.InvalidContent as error:
        return "; ".join(f"{LABELS.get(problem.field, problem.field)}: {problem.message}" for problem in error.errors)
    audit.record(session, actor, f"article.{step}", f"article {key}", {"revision": revision.number, **({"from": number} if step == "restore" else {})})
    return revision.number


async def _take_step(request: Request, form: FormData, step: str, done: str, not_done: str) -> Response:
    key, number = _key(request), _revision_number(form)
    outcome = await in_thread(request.app.state.engine, _step, key, step, number, request.state.staff.id)
    if isinstance(outcome, str):
        return await _page(request, key, 409, problem=f"{not_done}: {outcome}.")
    notify(request, done.format(number=outcome, old=number))
    return RedirectResponse(article_path(key), status_code=303)


@requires(*EDITING)
async def submit(request: Request, form: FormData) -> Response:
    return await _take_step(request, form, "submit", "Revision {number} is waiting for a reviewer.", "Not sent for review")


@requires(*PUBLISHING)
async def publish(request: Request, form: FormData) -> Response:
    return await _take_step(request, form, "publish", "Revision {number} is published: the assistant answers with it from now on.", "Not published")


@requires(*EDITING)
async def restore(request: Request, form: FormData) -> Response:
    return await _take_step(request, form, "restore", "Revision {old} is back as revision {number}, a draft.", "Not restored")


# --- the difference between two revisions ------------------------------------------------------


@requires(*ROLES)
async def compare(request: Request) -> Response:
    key = _key(request)
    numbers = [request.query_params.get(name, "") for name in ("from", "to")]
    if not all(number.isdigit() for number in numbers):
        raise HTTPException(400, "Choose two revisions to compare from the article's list of revisions.")
    view = await in_thread(request.app.state.engine, _view, key, _today(request))
    found = {revision.number: revision for revision in (view.history if view else [])}
    old, new = (found.get(int(number)) for number in numbers)
    if old is None or new is None:
        raise HTTPException(404, "This article has no such revision: choose two from its list of revisions.")
    return render(request, "article_diff.html", view=view, old=old, new=new, diff=revisions.diff(old.content, new.content),
                  labels=LABELS, status_labels=STATUS_LABELS, path=article_path(key))
