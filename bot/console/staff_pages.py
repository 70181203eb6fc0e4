"""Staff accounts, for admins: the list, a new account, another role, deactivation.

A form with mistakes comes back with every field to fix named and what was
typed kept (never the password); nothing is saved until everything is right.
"""
from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.console import accounts
from bot.console.accounts import AccountProblems, Problem
from bot.console.guards import notify, requires
from bot.console.models import ROLE_ADMIN, ROLE_EDITOR, ROLE_REVIEWER, ROLES
from bot.console.pages import render
from bot.database.sessions import in_thread

FIELD_LABELS = {
    "email": "E-mail address",
    "name": "Name",
    "role": "Role",
    "password": "Password",
    "password_again": "Password again",
    "account": "Account",
}
ROLE_SUMMARIES = {ROLE_EDITOR: "writes drafts", ROLE_REVIEWER: "approves and publishes", ROLE_ADMIN: "manages staff accounts"}
EMPTY_FORM = {"email": "", "name": "", "role": ROLE_EDITOR}


async def _page(request: Request, status_code: int = 200, *, problems: list[Problem] = (), typed: dict | None = None,
                row_problem: tuple[int, Problem] | None = None) -> Response:
    listed = await in_thread(request.app.state.engine, accounts.list_accounts)
    return render(
        request, "staff.html", status_code, accounts=listed, roles=ROLES, role_summaries=ROLE_SUMMARIES, labels=FIELD_LABELS,
        problems=list(problems), errors={problem.field: problem.message for problem in problems},
        typed=typed or EMPTY_FORM, row_problem=row_problem,
    )


@requires(ROLE_ADMIN)
async def show(request: Request) -> Response:
    return await _page(request)


def _create(session, actor_id: int, email: str, name: str, role: str, password: str, password_again: str):
    """Checks everything, then creates; returns the new account or the problems (and then nothing was stored)."""
    problems = accounts.new_account_problems(session, email, name, role, password)
    if password != password_again:
        problems.append(Problem("password_again", "type the same password in both password fields"))
    if problems:
        return problems
    return accounts.create_account(session, accounts.by_id(session, actor_id), email=email, name=name, role=role, password=password)


@requires(ROLE_ADMIN)
async def create(request: Request, form: FormData) -> Response:
    typed = {key: str(form.get(key, "")) for key in ("email", "name", "role")}
    password, password_again = str(form.get("password", "")), str(form.get("password_again", ""))
    staff = request.state.staff
    created = await in_thread(request.app.state.engine, _create, staff.id, typed["email"], typed["name"], typed["role"], password, password_again)
    if isinstance(created, list):
        return await _page(request, 400, problems=created, typed=typed)
    notify(request, f"Account created for {created.name} ({created.role}). Give them the password in person or by phone, not by e-mail.")
    return RedirectResponse("/staff", status_code=303)


def _account_id(request: Request) -> int:
    return request.path_params["account_id"]


async def _change(request: Request, work, *args) -> Response | accounts.Staff:
    staff = request.state.staff

    def in_session(session):
        return work(session, accounts.by_id(session, staff.id), _account_id(request), *args)

    try:
        return await in_thread(request.app.state.engine, in_session)
    except LookupError:
        raise HTTPException(404, "There is no such staff account. It may have been removed: reload the staff page.") from None
    except AccountProblems as error:
        return await _page(request, 400, row_problem=(_account_id(request), error.problems[0]))


@requires(ROLE_ADMIN)
async def change_role(request: Request, form: FormData) -> Response:
    role = str(form.get("role", ""))
    if role not in ROLES:
        raise HTTPException(400, f"There is no role {role!r}: choose one of {', '.join(ROLES)}.")
    changed = await _change(request, accounts.change_role, role)
    if isinstance(changed, Response):
        return changed
    notify(request, f"{changed.name} is now {'an' if role == ROLE_ADMIN else 'a'} {role}.")
    return RedirectResponse("/staff", status_code=303)


@requires(ROLE_ADMIN)
async def deactivate(request: Request, form: FormData) -> Response:
    changed = await _change(request, accounts.deactivate)
    if isinstance(changed, Response):
        return changed
    notify(request, f"{changed.name}'s account is deactivated: they can no longer sign in.")
    return RedirectResponse("/staff", status_code=303)
