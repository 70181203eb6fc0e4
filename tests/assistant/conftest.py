"""The trained assistant: the test model, a real action server and an agent."""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import pytest_asyncio

from bot.evaluation import free_port
from bot.stack import action_server, rasa_server_command, start, stop, wait_until_up

TEST_MODEL = Path(os.environ.get("ACOLLIDA_TEST_MODEL", "models/acollida.tar.gz"))


@pytest.fixture(scope="session")
def test_model() -> str:
    assert TEST_MODEL.is_file(), f"{TEST_MODEL} is missing: `make test` trains it before running pytest"
    return str(TEST_MODEL)


@pytest.fixture(scope="session")
def action_url(knowledge_url):
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = knowledge_url
    try:
        with action_server(free_port()) as url:
            yield url
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def agent(test_model, action_url):
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    return await load_agent(model_path=test_model, endpoints=AvailableEndpoints(action=EndpointConfig(url=action_url)))


@dataclass
class RasaServer:
    url: str
    tracker_database_url: str
    port: int
    endpoints: Path


def rasa_endpoints(folder: Path, action_url: str) -> Path:
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "{action_url}"\ntracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{folder / "tracker.db"}"\n',
        encoding="utf-8",
    )
    return endpoints


@contextlib.contextmanager
def running_rasa(model: str, endpoints: Path, port: int) -> Iterator[RasaServer]:
    """A real `rasa run --enable-api` with the REST channel, as `acollida run` starts it."""
    process = start(rasa_server_command(model, port, str(endpoints)), f"rasa-test-{port}")
    try:
        wait_until_up(f"http://127.0.0.1:{port}/status", process, "the Rasa server")
        yield RasaServer(f"http://127.0.0.1:{port}", f"sqlite:///{endpoints.parent / 'tracker.db'}", port, endpoints)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def rasa_server(test_model, action_url, tmp_path_factory) -> Iterator[RasaServer]:
    endpoints = rasa_endpoints(tmp_path_factory.mktemp("rasa"), action_url)
    with running_rasa(test_model, endpoints, free_port()) as server:
        yield server


@pytest.fixture(scope="session")
def rasa_url(rasa_server) -> str:
    return rasa_server.url
