"""The audit log's page, for admins and reviewers: the newest entries first, a page at a time."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.console import audit
from bot.console.guards import requires
from bot.console.models import ROLE_ADMIN, ROLE_REVIEWER
from bot.console.pages import render
from bot.database.sessions import in_thread

PAGE_SIZE = 100


@requires(ROLE_ADMIN, ROLE_REVIEWER)
async def show(request: Request) -> Response:
    before = request.query_params.get("before")
    if before is not None and not before.isdigit():
        raise HTTPException(400, "The address asks for entries before something that is not an entry number: open the audit log from the menu.")
    # One more than a page, to know whether there are older ones.
    entries = await in_thread(request.app.state.engine, audit.recent, PAGE_SIZE + 1, int(before) if before else None)
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    return render(request, "audit.html", entries=entries[:PAGE_SIZE], older=older, first_page=before is None)
