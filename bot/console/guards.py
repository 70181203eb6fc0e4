"""Who is signed in, what their role lets them do, and the CSRF check every form post passes first.

Sessions live in a signed cookie (Starlette's SessionMiddleware): it holds the
account id, when the person was last seen, the CSRF token and a one-time
notice, never a password. The account is read from the database at every
request, so a deactivated account or a changed role counts at once.
"""
from __future__ import annotations

import datetime as dt
import functools
import secrets
from typing import Awaitable, Callable
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console import accounts
from bot.console.accounts import Staff
from bot.database.sessions import in_thread

CSRF_FIELD = "csrf_token"
# The console's forms have a handful of fields and no files; anything bigger is not one of them.
MAX_FORM_FIELDS = 20

Endpoint = Callable[..., Awaitable[Response]]


class Forbidden(Exception):
    """Signed in, but the page is for other roles."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        super().__init__(", ".join(roles))
        self.roles = roles


class CsrfRejected(Exception):
    """A form post without this session's token: an old page, a signed-out session, or another site."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if token is None:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def now(request: Request) -> dt.datetime:
    return dt.datetime.fromtimestamp(request.app.state.config.clock(), dt.timezone.utc)


def notify(request: Request, notice: str) -> None:
    """A sentence the next page shows once (after a redirect)."""
    request.session["notice"] = notice


def start_session(request: Request, staff: Staff) -> None:
    # A new token at sign-in: one copied from the signed-out page must not work in the session.
    request.session.clear()
    request.session.update(account_id=staff.id, seen=request.app.state.config.clock(), csrf=secrets.token_urlsafe(32))


async def signed_in(request: Request) -> Staff | None:
    """The person of this request, or None; a session idle for longer than the configured hours has ended."""
    if hasattr(request.state, "staff"):
        return request.state.staff
    config, session = request.app.state.config, request.session
    staff = None
    account_id = session.get("account_id")
    if account_id is not None:
        clock = config.clock()
        if clock - session.get("seen", 0) > config.session_seconds:
            session.clear()
            hours = f"{config.session_hours:g} hour{'s' if config.session_hours != 1 else ''}"
            notify(request, f"Your session ended after {hours} without activity. Sign in again.")
        else:
            staff = await in_thread(request.app.state.engine, accounts.active_account, account_id)
            if staff is None:
                session.clear()
            else:
                session["seen"] = clock  # rewrites the cookie: its age counts from the last request
    request.state.staff = staff
    return staff


def requires(*roles: str) -> Callable[[Endpoint], Endpoint]:
    """Signed in (and, when roles are named, in one of them); otherwise to the sign-in page, or 403 naming the roles."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request, *args) -> Response:
            staff = await signed_in(request)
            if staff is None:
                # Back to the page after signing in; a form post cannot be repeated by a redirect.
                target = request.url.path if request.method == "GET" else "/"
                return RedirectResponse(f"/sign-in?next={quote(target)}", status_code=303)
            if roles and staff.role not in roles:
                raise Forbidden(roles)
            return await endpoint(request, *args)

        return guarded

    return decorate


def form_post(path: str, endpoint: Callable[[Request, FormData], Awaitable[Response]]) -> Route:
    """The one way the console declares a POST route: the CSRF token is checked before the endpoint runs."""

    async def checked(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        sent, expected = form.get(CSRF_FIELD), request.session.get("csrf")
        if not isinstance(sent, str) or expected is None or not secrets.compare_digest(sent, expected):
            raise CsrfRejected()
        return await endpoint(request, form)

    return Route(path, checked, methods=["POST"])


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this console only, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target and not target.startswith("/sign-"):
        return target
    return "/"
