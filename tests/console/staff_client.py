"""Staff in a test: a clock the test moves on, accounts of every role, forms posted with the session's CSRF token."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from starlette.testclient import TestClient

from bot.console import accounts
from bot.database.sessions import engine_for, session_scope

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """Seconds, as time.time gives them, moved on by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str
    role: str


def add_person(url: str, role: str, email: str | None = None, name: str | None = None, password: str = PASSWORD) -> Person:
    with session_scope(engine_for(url)) as session:
        staff = accounts.create_account(session, None, email=email or f"{role}@example.org", name=name or role.title(), role=role, password=password)
    return Person(staff.id, staff.email, staff.name, staff.role)


def csrf_token(client: TestClient, path: str = "/sign-in") -> str:
    match = CSRF.search(client.get(path, follow_redirects=True).text)
    assert match, f"no CSRF token on {path}"
    return match[1]


def post(client: TestClient, path: str, data: dict, token: str | None = None, page: str = "/sign-in"):
    """A form post with the session's CSRF token, as the page's form sends it."""
    return client.post(path, data={"csrf_token": token or csrf_token(client, page), **data})


def sign_in(client: TestClient, person: Person | str, password: str = PASSWORD):
    email = person if isinstance(person, str) else person.email
    return post(client, "/sign-in", {"email": email, "password": password})


def signed_in_client(app, person: Person) -> TestClient:
    test_client = TestClient(app, base_url="http://localhost", follow_redirects=False)
    response = sign_in(test_client, person)
    assert response.status_code == 303, response.text
    return test_client
