"""The trained assistant: the test model, a real action server and an agent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import pytest_asyncio

from bot.evaluation import free_port
from bot.stack import action_server

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
