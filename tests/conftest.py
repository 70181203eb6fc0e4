"""Shared fixtures: databases (SQLite and a throwaway PostgreSQL), packs, sessions."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.database.schema import upgrade_schema
from bot.database.sessions import engine_for, session_scope
from bot.knowledge.pack import load_pack
from bot.knowledge.store import replace_content

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PACK = PROJECT_ROOT / "knowledge" / "osona"
SMALL_PACK = Path(__file__).resolve().parent / "knowledge" / "small_pack"
POSTGRES_SERVER = os.environ.get("ACOLLIDA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'knowledge.db'}"


@pytest.fixture
def postgres_url():
    """A database created for one test and dropped after it."""
    name = f"acollida_test_{uuid.uuid4().hex[:10]}"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT", future=True)
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
    yield url
    engine_for(url).dispose()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request):
    """Each knowledge-layer test runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def small_pack(tmp_path: Path) -> Path:
    """A copy of the small test pack that a test may break."""
    target = tmp_path / "small_pack"
    shutil.copytree(SMALL_PACK, target)
    return target


@pytest.fixture(scope="session")
def shipped_pack():
    return load_pack(SHIPPED_PACK)


@pytest.fixture(scope="session")
def knowledge_url(tmp_path_factory, shipped_pack) -> str:
    """A SQLite knowledge base holding the shipped pack, shared by read-only tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('kb') / 'knowledge.db'}"
    upgrade_schema(url)
    with session_scope(engine_for(url)) as session:
        replace_content(session, shipped_pack)
    return url


@pytest.fixture
def knowledge(knowledge_url):
    with session_scope(engine_for(knowledge_url)) as session:
        yield session


@pytest.fixture
def use_knowledge(knowledge_url, monkeypatch):
    """Points the code that reads DATABASE_URL (the actions) at the shipped pack."""
    monkeypatch.setenv("DATABASE_URL", knowledge_url)
    return knowledge_url
