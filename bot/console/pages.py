"""How the console's pages are rendered: one layout, what every page shows, and the pages for errors.

Jinja escapes everything staff typed (autoescape on, no `|safe` anywhere);
an undefined name in a template is an error, not an empty string.
"""
from __future__ import annotations

import datetime as dt
import logging
from http import HTTPStatus
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from bot.console import guards
from bot.console.models import ROLE_ADMIN, ROLE_EDITOR, ROLE_REVIEWER

TEMPLATES = Path(__file__).resolve().parent / "templates"
log = logging.getLogger(__name__)

ROLE_PLURALS = {ROLE_EDITOR: "editors", ROLE_REVIEWER: "reviewers", ROLE_ADMIN: "admins"}
ROLE_DUTIES = {
    ROLE_EDITOR: "You write drafts of articles and their translations and send them for review; a reviewer publishes them.",
    ROLE_REVIEWER: "You write and review drafts and publish them, so that newcomers get them, and you can read the audit log.",
    ROLE_ADMIN: "You manage staff accounts (add colleagues, change roles, deactivate accounts); you can read the articles and the audit log.",
}


@dataclass(frozen=True)
class Section:
    label: str
    path: str
    roles: tuple[str, ...]
    purpose: str  # what the home page says it is for


SECTIONS = (
    Section("Articles", "/articles", (ROLE_EDITOR, ROLE_REVIEWER, ROLE_ADMIN),
            "Every topic in every language: what is missing, outdated or due for review; write, review and publish."),
    Section("Staff accounts", "/staff", (ROLE_ADMIN,), "Add colleagues, change their role, deactivate an account."),
    Section("Audit log", "/audit", (ROLE_ADMIN, ROLE_REVIEWER), "Who changed what, and when."),
)

ERROR_TITLES = {
    400: "This request cannot be used",
    403: "Not for your role",
    404: "Page not found",
    405: "Not possible on this page",
    413: "Too much sent at once",
}
ERROR_ADVICE = {
    400: "Go back, check what you sent, and try again.",
    404: "The address may be mistyped, or the page was moved. Start again from the home page.",
    405: "Use the buttons on the console's pages rather than typing the address.",
    413: "Send less text at once.",
}


def roles_phrase(roles: tuple[str, ...]) -> str:
    names = [ROLE_PLURALS[role] for role in roles]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def build_templates(timezone: str) -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    zone = ZoneInfo(timezone)

    def when(moment: dt.datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else "never"

    environment.filters["when"] = when
    environment.globals.update(role_plurals=ROLE_PLURALS, csrf_field=guards.CSRF_FIELD)
    return Jinja2Templates(env=environment)


def render(request: Request, template: str, status_code: int = 200, **context) -> Response:
    staff = getattr(request.state, "staff", None)
    sections = [section for section in SECTIONS if staff is not None and staff.role in section.roles]
    # A failure before the session middleware ran (the 500 page) renders without the session.
    has_session = "session" in request.scope
    context.setdefault("lang", "en")
    context.setdefault("dir", "ltr")
    return request.app.state.templates.TemplateResponse(request, template, {
        "staff": staff,
        "sections": sections,
        "current_path": request.url.path,
        "csrf_token": guards.csrf_token(request) if has_session else "",
        "notice": request.session.pop("notice", None) if has_session else None,
        **context,
    }, status_code=status_code)


def error_page(request: Request, status_code: int, message: str, title: str | None = None) -> Response:
    return render(request, "error.html", status_code, title=title or ERROR_TITLES.get(status_code, "Something went wrong"), message=message)


async def _with_person(request: Request) -> None:
    """Error pages show the navigation of whoever is signed in, when the database answers."""
    try:
        await guards.signed_in(request)
    except Exception as error:  # the error page must appear even when the database does not answer
        log.warning("error page without the person's navigation: %s", type(error).__name__)
        request.state.staff = None


async def on_http_error(request: Request, error: HTTPException) -> Response:
    await _with_person(request)
    detail = error.detail if error.detail and error.detail != HTTPStatus(error.status_code).phrase else None
    return error_page(request, error.status_code, detail or ERROR_ADVICE.get(error.status_code, "Go back and try again."))


async def on_forbidden(request: Request, error: guards.Forbidden) -> Response:
    staff = request.state.staff
    return error_page(
        request, 403,
        f"This page is for {roles_phrase(error.roles)} only. You are signed in as {staff.name}, who is {_article(staff.role)} {staff.role}. "
        "If your work needs it, ask an admin to change your role.",
    )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


async def on_csrf_rejected(request: Request, error: guards.CsrfRejected) -> Response:
    await _with_person(request)
    return error_page(
        request, 403,
        "This form was not accepted: it comes from a page older than your session, or from another site. "
        "Sessions end after signing out or after a long time without activity, and the console needs cookies allowed. "
        "Reload the page, then send the form again.",
        title="Form expired",
    )


async def on_server_error(request: Request, error: Exception) -> Response:
    # Starlette's error middleware logs the exception and its trace; the person gets a page without it.
    request.state.staff = getattr(request.state, "staff", None)
    return error_page(request, 500, "The console could not finish this. Nothing was half-saved: try again in a moment, "
                                    "and tell whoever runs the console if it happens again.")
