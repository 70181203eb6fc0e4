"""Every route for every role, the CSRF check on every form post, the error pages, health and the layout."""
from __future__ import annotations

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.console import accounts as accounts_module
from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from tests.console.staff_client import csrf_token, signed_in_client

ROLES = ("anonymous", "editor", "reviewer", "admin")
# The page, then who may open it (everyone else signed in gets 403 naming them).
PAGES = {
    "/": (("editor", "reviewer", "admin"), None),
    "/articles": (("editor", "reviewer", "admin"), None),
    "/staff": (("admin",), "This page is for admins only."),
    "/audit": (("admin", "reviewer"), "This page is for admins and reviewers only."),
}


def _client(app, people, role: str) -> TestClient:
    if role == "anonymous":
        return TestClient(app, base_url="http://localhost", follow_redirects=False)
    return signed_in_client(app, people[role])


@pytest.mark.parametrize("role", ROLES)
def test_each_page_opens_for_its_roles_and_says_which_roles_it_is_for_otherwise(app, people, role):
    client = _client(app, people, role)
    for path, (allowed, denial) in PAGES.items():
        response = client.get(path)
        if role == "anonymous":
            assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next="), path
        elif role in allowed:
            assert response.status_code == 200, path
        else:
            assert response.status_code == 403, path
            assert denial in response.text and f"who is {'an' if role == 'editor' else 'a'} {role}" in response.text
            assert "ask an admin to change your role" in response.text


@pytest.mark.parametrize("role", ["editor", "reviewer"])
def test_only_admins_change_accounts(app, people, role):
    client = _client(app, people, role)
    token = csrf_token(client, "/")
    target = people["editor"] if role == "reviewer" else people["reviewer"]
    posts = {
        "/staff": {"email": "new@example.org", "name": "New", "role": "admin", "password": "a long password", "password_again": "a long password"},
        f"/staff/{target.id}/role": {"role": "admin"},
        f"/staff/{target.id}/deactivate": {},
    }
    for path, data in posts.items():
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 403 and "This page is for admins only." in response.text, path
    admin = signed_in_client(app, people["admin"])
    listing = admin.get("/staff").text
    assert "new@example.org" not in listing and listing.count("deactivated") == 0


def _post_routes(app) -> list[str]:
    paths = [route.path.replace("{account_id:int}", "1").replace("{topic}/{language}/{place}", "health_card/ca/all")
             for route in app.routes if isinstance(route, Route) and "POST" in route.methods]
    assert len(paths) == 9
    return paths


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_every_form_post_without_the_session_token_is_refused(app, people, token):
    client = signed_in_client(app, people["admin"])
    for path in _post_routes(app):
        data = {"email": people["admin"].email, "password": "x", "role": "editor"}
        if token:
            data["csrf_token"] = token
        response = client.post(path, data=data)
        assert response.status_code == 403, path
        assert "Form expired" in response.text and "Reload the page, then send the form again." in response.text
    assert client.get("/staff").status_code == 200  # still signed in, nothing changed


def test_a_token_from_another_session_is_refused(app, people):
    other = signed_in_client(app, people["editor"])
    admin = signed_in_client(app, people["admin"])
    response = admin.post(f"/staff/{people['reviewer'].id}/deactivate", data={"csrf_token": csrf_token(other, "/")})
    assert response.status_code == 403 and "Form expired" in response.text


def test_pages_for_mistakes_are_clear_and_carry_no_trace(app, people):
    client = signed_in_client(app, people["admin"])
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text and 'href="/staff"' in missing.text
    bad = client.get("/audit?before=yesterday")
    assert bad.status_code == 400 and "not an entry number" in bad.text
    assert client.get("/staff/abc/role").status_code == 404
    wrong_method = client.get(f"/staff/{people['editor'].id}/deactivate")
    assert wrong_method.status_code == 405 and "Use the buttons on the console" in wrong_method.text
    for response in (missing, bad, wrong_method):
        assert response.headers["content-type"].startswith("text/html") and "Traceback" not in response.text


def test_a_failure_inside_shows_a_page_without_its_details(app, people, monkeypatch):
    client = signed_in_client(app, people["admin"])

    def broken(session):
        raise RuntimeError("internal detail: SELECT secret")

    monkeypatch.setattr(accounts_module, "list_accounts", broken)
    quiet = TestClient(app, base_url="http://localhost", raise_server_exceptions=False, cookies=client.cookies)
    response = quiet.get("/staff")
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "Nothing was half-saved" in response.text
    assert "internal detail" not in response.text and "Traceback" not in response.text


def test_health_says_whether_the_database_answers(client, tmp_path):
    assert client.get("/health").json() == {"role": "console", "status": "ok"}
    unreachable = ConsoleConfig(database_url=f"sqlite:///{tmp_path / 'missing' / 'console.db'}", secret_key="k" * 40, allowed_hosts=["localhost"])
    response = TestClient(create_app(unreachable), base_url="http://localhost").get("/health")
    assert response.status_code == 503
    assert response.json() == {"role": "console", "status": "down", "problems": ["database: OperationalError"]}


def test_only_the_allowed_hosts_are_answered(client):
    assert client.get("/health", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/health", headers={"host": "localhost:5080"}).status_code == 200


def test_every_answer_carries_the_security_headers_and_pages_are_not_stored(client):
    page = client.get("/sign-in")
    assert "script-src 'self'" in page.headers["content-security-policy"] and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in page.headers


def test_htmx_and_the_styles_come_from_the_console_itself(client):
    page = client.get("/sign-in").text
    assert '<script src="/static/htmx.min.js" defer></script>' in page and "://" not in page.split("<body")[0]
    script = client.get("/static/htmx.min.js")
    assert script.status_code == 200 and script.text.startswith("/*! htmx 2.") and "Zero-Clause BSD" in script.text[:400]
    assert client.get("/static/console.css").status_code == 200


def test_the_layout_is_ready_for_keyboards_small_screens_and_right_to_left_text(app, people):
    page = signed_in_client(app, people["admin"]).get("/staff").text
    assert '<html lang="en" dir="ltr">' in page
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in page and '<main id="main"' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    for field in ("email", "name", "password", "password_again"):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page
    assert 'aria-current="page"' in page
