"""The console on each database (SQLite and PostgreSQL), its clock in the test's hands, and staff of every role."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.database.schema import upgrade_schema
from tests.console.staff_client import Clock, Person, add_person


@pytest.fixture
def console_db(database_url) -> str:
    upgrade_schema(database_url)
    return database_url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config(console_db, clock) -> ConsoleConfig:
    return ConsoleConfig(database_url=console_db, secret_key="k" * 40, allowed_hosts=["localhost"], session_hours=8, clock=clock)


@pytest.fixture
def app(config):
    return create_app(config)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def people(console_db) -> dict[str, Person]:
    return {role: add_person(console_db, role) for role in ("editor", "reviewer", "admin")}


