"""The staff console's web application: ``create_app(config)``.

Why this stack. Starlette 1.x, because it is small, asynchronous and brings
what a console needs (routing, signed-cookie sessions, trusted hosts, static
files, a test client) without pydantic, which Rasa 3.6 pins to 1.10 (FastAPI
stopped supporting it at 0.125). Pages are rendered on the server from Jinja2
templates with autoescaping, so they work without JavaScript, on old office
computers and on phones, with screen readers, and there is nothing to build.
HTMX (``static/htmx.min.js``, served by the console itself, no CDN: an office
network may have no internet) makes links and forms load without a whole page
reload (``hx-boost``) and is the only script; a JavaScript framework would be
a second application to keep up for a handful of forms. The database is the
application's one database, its synchronous sessions run off the event loop
(``bot.database.sessions.in_thread``).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.console import accounts, article_pages, audit_pages, guards, pages, sign_in, staff_pages
from bot.console.config import ConsoleConfig
from bot.console.models import ROLES
from bot.database.sessions import engine_for, in_thread

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "acollida_console"
MAX_BODY_BYTES = 1024 * 1024
# One article: its topic, language, and municipality (or "all", the whole territory).
ARTICLE = "/articles/{topic}/{language}/{place}"

# Only the console's own scripts, styles and forms; no framing (clickjacking), no guessing of content types.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response; pages are not stored by the browser (a shared office computer)."""

    def __init__(self, app: ASGIApp, strict_transport: bool) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if strict_transport:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if not scope["path"].startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


@guards.requires(*ROLES)
async def home(request: Request) -> Response:
    """What the signed-in person can do here, by their role."""
    return pages.render(request, "home.html", duties=pages.ROLE_DUTIES[request.state.staff.role])


async def health(request: Request) -> Response:
    """200 when the database answers; what a supervisor or load balancer asks. It carries no personal data."""
    try:
        await in_thread(request.app.state.engine, lambda session: session.execute(text("SELECT 1")).scalar_one())
    except Exception as error:  # any failure to reach the database is "down", named by its type
        return JSONResponse({"role": "console", "status": "down", "problems": [f"database: {type(error).__name__}"]}, status_code=503)
    return JSONResponse({"role": "console", "status": "ok"})


def create_app(config: ConsoleConfig) -> Starlette:
    routes = [
        Route("/", home, methods=["GET"]),
        Route("/sign-in", sign_in.show, methods=["GET"]),
        guards.form_post("/sign-in", sign_in.submit),
        guards.form_post("/sign-out", sign_in.sign_out),
        Route("/staff", staff_pages.show, methods=["GET"]),
        guards.form_post("/staff", staff_pages.create),
        guards.form_post("/staff/{account_id:int}/role", staff_pages.change_role),
        guards.form_post("/staff/{account_id:int}/deactivate", staff_pages.deactivate),
        Route("/articles", article_pages.matrix, methods=["GET"]),
        Route(ARTICLE, article_pages.show, methods=["GET"]),
        guards.form_post(ARTICLE, article_pages.save),
        guards.form_post(f"{ARTICLE}/submit", article_pages.submit),
        guards.form_post(f"{ARTICLE}/publish", article_pages.publish),
        guards.form_post(f"{ARTICLE}/restore", article_pages.restore),
        Route(f"{ARTICLE}/diff", article_pages.compare, methods=["GET"]),
        Route("/audit", audit_pages.show, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=config.allowed_hosts),
        Middleware(SecurityHeaders, strict_transport=config.secure_cookies),
        # The cookie lives as long as a session may stay idle; every signed-in request renews it.
        Middleware(SessionMiddleware, secret_key=config.secret_key, session_cookie=SESSION_COOKIE,
                   max_age=config.session_seconds, same_site="lax", https_only=config.secure_cookies),
    ]
    exception_handlers = {
        HTTPException: pages.on_http_error,
        guards.Forbidden: pages.on_forbidden,
        guards.CsrfRejected: pages.on_csrf_rejected,
        Exception: pages.on_server_error,
    }
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=exception_handlers, max_body_size=MAX_BODY_BYTES)
    app.state.config = config
    app.state.engine = engine_for(config.database_url)
    app.state.templates = pages.build_templates(config.timezone)
    app.state.unknown_emails = accounts.UnknownEmails()
    return app
