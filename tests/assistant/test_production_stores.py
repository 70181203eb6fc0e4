"""The production configuration for real: endpoints.production.yml with a
PostgreSQL tracker store and a Redis lock store, shared by two replicas."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.agent import load_agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import RedisLockStore
from rasa.core.utils import AvailableEndpoints
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.postgres]


@pytest.fixture
def production_environment(monkeypatch, postgres_url, action_url):
    monkeypatch.setenv("ACTION_ENDPOINT_URL", action_url)
    monkeypatch.setenv("TRACKER_DB_HOST", "127.0.0.1")
    monkeypatch.setenv("TRACKER_DB_PORT", "5432")
    monkeypatch.setenv("TRACKER_DB_NAME", postgres_url.rsplit("/", 1)[1])
    monkeypatch.setenv("TRACKER_DB_USER", "postgres")
    monkeypatch.setenv("TRACKER_DB_PASSWORD", "")
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", "6379")
    monkeypatch.setenv("REDIS_DB", "0")
    return postgres_url


async def replica(model: str):
    return await load_agent(model_path=model, endpoints=AvailableEndpoints.read_endpoints("endpoints.production.yml"))


async def test_two_replicas_share_conversations_through_postgres_and_redis(production_environment, test_model):
    first, second = await replica(test_model), await replica(test_model)
    # (the tracker store is wrapped in Rasa's FailSafeTrackerStore; the rows
    # counted in PostgreSQL below show which store it wraps)
    assert isinstance(first.lock_store, RedisLockStore)

    # Two messages of one conversation arrive at both replicas at once: the
    # Redis lock serialises them, so both are recorded, in order.
    await asyncio.gather(
        first.handle_message(UserMessage("Добрый день, нужна медицинская карта", CollectingOutputChannel(), "shared-chat")),
        second.handle_message(UserMessage("спасибо", CollectingOutputChannel(), "shared-chat")),
    )
    tracker = await second.tracker_store.retrieve("shared-chat")
    user_texts = [event.text for event in tracker.events if event.as_dict()["event"] == "user"]
    assert sorted(user_texts) == sorted(["Добрый день, нужна медицинская карта", "спасибо"])
    assert tracker.get_slot("language") == "ru"

    engine = create_engine(production_environment, future=True)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM events WHERE sender_id = 'shared-chat'")).scalar_one()
    engine.dispose()
    assert stored >= 6
