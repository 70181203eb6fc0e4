"""Signing in and out of the console, sessions that end, and the same answer whether or not an account exists."""
from __future__ import annotations

import re

from bot.console import accounts
from bot.console.models import StaffAccount
from bot.database.sessions import engine_for, session_scope
from tests.console.staff_client import PASSWORD, csrf_token, post, sign_in

HOUR = 3600


def _without(page: str, *texts: str) -> str:
    for text in texts:
        page = page.replace(text, "EMAIL")
    return page


def test_signing_in_opens_the_home_page_of_the_role(client, people):
    response = sign_in(client, people["reviewer"])
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Hello, Reviewer" in home.text and "You write and review drafts and publish them" in home.text
    assert 'href="/audit"' in home.text and 'href="/staff"' not in home.text


def test_a_wrong_password_and_an_unknown_address_give_the_identical_page(client, people):
    wrong = sign_in(client, people["editor"], "not the password")
    unknown = sign_in(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert accounts.SIGN_IN_REFUSED in wrong.text
    assert _without(wrong.text, people["editor"].email) == _without(unknown.text, "nobody@example.org")
    assert "not the password" not in wrong.text  # the password is never shown again


def test_five_failures_in_a_row_lock_the_address_for_a_minute_known_or_not(client, people, clock):
    answers = {}
    for email in (people["editor"].email, "nobody@example.org"):
        for _ in range(5):
            assert sign_in(client, email, "not the password").status_code == 400
        locked = sign_in(client, email, PASSWORD)
        assert locked.status_code == 429
        answers[email] = _without(locked.text, email)
    assert len(set(answers.values())) == 1
    assert "Too many failed sign-ins with this e-mail address. Wait 1 minute, then try again." in answers[people["editor"].email]
    clock.advance(61)
    assert sign_in(client, people["editor"]).status_code == 303


def test_the_lock_grows_with_each_further_failure(client, people, clock):
    for _ in range(5):
        sign_in(client, people["admin"], "not the password")
    clock.advance(61)
    assert sign_in(client, people["admin"], "still not it").status_code == 400
    assert "Wait 2 minutes" in sign_in(client, people["admin"]).text
    with session_scope(engine_for(client.app.state.config.database_url)) as session:
        assert session.get(StaffAccount, people["admin"].id).failed_sign_ins == 6


def test_a_session_ends_after_8_hours_without_activity_and_not_while_used(client, people, clock):
    sign_in(client, people["editor"])
    for _ in range(3):
        clock.advance(7 * HOUR)
        assert client.get("/").status_code == 200
    clock.advance(8 * HOUR + 1)
    ended = client.get("/")
    assert ended.status_code == 303 and ended.headers["location"] == "/sign-in?next=/"
    page = client.get(ended.headers["location"])
    assert "Your session ended after 8 hours without activity. Sign in again." in page.text
    assert client.get("/").status_code == 303


def test_the_session_cookie_is_signed_http_only_and_lives_as_long_as_a_session_may_idle(client, people):
    response = sign_in(client, people["editor"])
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and f"Max-Age={8 * HOUR}" in cookie
    assert "secure" not in cookie.lower()  # a loopback console over plain HTTP
    assert PASSWORD not in cookie and people["editor"].email not in cookie


def test_a_page_asked_for_before_signing_in_opens_after_it_and_only_pages_of_the_console(client, people):
    redirected = client.get("/audit")
    assert redirected.status_code == 303 and redirected.headers["location"] == "/sign-in?next=/audit"
    page = client.get(redirected.headers["location"])
    assert 'name="next" value="/audit"' in page.text
    token = csrf_token(client)
    signed = post(client, "/sign-in", {"email": people["admin"].email, "password": PASSWORD, "next": "/audit"}, token)
    assert signed.headers["location"] == "/audit"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        signed = post(client, "/sign-in", {"email": people["admin"].email, "password": PASSWORD, "next": elsewhere})
        assert signed.headers["location"] == "/"
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})


def test_an_empty_field_is_named(client, people):
    response = post(client, "/sign-in", {"email": people["editor"].email, "password": ""})
    assert response.status_code == 400 and "Write your password, then sign in." in response.text
    assert f'value="{people["editor"].email}"' in response.text


def test_signing_out_ends_the_session_and_its_forms(client, people):
    sign_in(client, people["admin"])
    token = csrf_token(client, "/staff")
    out = client.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert "You are signed out." in client.get("/sign-in").text
    assert client.get("/staff").status_code == 303
    stale = client.post("/staff", data={"csrf_token": token, "email": "x@example.org"})
    assert stale.status_code == 403 and "Form expired" in stale.text


def test_a_new_token_at_sign_in_so_that_one_from_before_does_not_work(client, people):
    before = csrf_token(client)
    sign_in(client, people["admin"])
    after = csrf_token(client, "/staff")
    assert before != after
    assert client.post("/sign-out", data={"csrf_token": before}).status_code == 403


def test_signing_in_is_recorded_with_the_time(client, people):
    sign_in(client, people["admin"])
    audit = client.get("/audit").text
    assert "staff.sign_in" in audit and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T", audit)
