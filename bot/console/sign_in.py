"""Signing in and out.

A refused sign-in shows the same page whether or not the address has an
account (see bot.console.accounts); the password is never shown again.
"""
from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.console import accounts, guards
from bot.console.pages import render
from bot.database.sessions import in_thread


async def show(request: Request) -> Response:
    next_path = guards.safe_next(request.query_params.get("next"))
    if await guards.signed_in(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    return render(request, "sign_in.html", email="", next_path=next_path, refusal=None)


async def submit(request: Request, form: FormData) -> Response:
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    next_path = guards.safe_next(str(form.get("next", "")))
    if not email.strip() or not password:
        missing = "e-mail address" if not email.strip() else "password"
        return render(request, "sign_in.html", 400, email=email, next_path=next_path, refusal=f"Write your {missing}, then sign in.")
    state = request.app.state
    outcome = await in_thread(state.engine, accounts.authenticate, email, password, state.unknown_emails, guards.now(request))
    if outcome.account is None:
        locked = outcome.refusal != accounts.SIGN_IN_REFUSED
        return render(request, "sign_in.html", 429 if locked else 400, email=email, next_path=next_path, refusal=outcome.refusal)
    guards.start_session(request, outcome.account)
    return RedirectResponse(next_path, status_code=303)


async def sign_out(request: Request, form: FormData) -> Response:
    request.session.clear()
    guards.notify(request, "You are signed out.")
    return RedirectResponse("/sign-in", status_code=303)
