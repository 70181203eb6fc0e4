"""/forget in every configuration a deployment can have: the store Rasa really writes to is the one erased.

Each case starts a real `rasa run` with the shipped endpoints file and the
environment the README documents, runs the gateway against the loopback Bot
API, sends a message, erases it, then looks for the person everywhere: in
Rasa's tracker through its own HTTP API, in every table, in every log file.
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging

import httpx
import pytest
from sqlalchemy import MetaData, create_engine, select

from bot import privacy, settings, tracker_events
from bot.logs import WithholdMessageText
from bot.evaluation import free_port
from bot.telegram.app import running
from bot.telegram.config import GatewayConfig
from bot.texts import say
from tests.assistant.conftest import running_rasa
from tests.telegram.fake_bot_api import FakeBotAPI

pytestmark = pytest.mark.model

_update_ids = itertools.count(50_000_000, 1_000_000)
SECRET = "Visc al carrer Sant Pere 17, 2n, i el meu NIE és X1234567L: com m'empadrono a Vic?"


@pytest.fixture(params=["default", "var_dir_elsewhere", pytest.param("production", marks=pytest.mark.postgres)])
def deployment(request, monkeypatch, tmp_path, action_url):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    monkeypatch.setenv("ACTION_ENDPOINT_URL", action_url)
    if request.param == "default":
        monkeypatch.delenv("ACOLLIDA_VAR_DIR", raising=False)
        monkeypatch.delenv("ACOLLIDA_ENDPOINTS", raising=False)
    elif request.param == "var_dir_elsewhere":
        monkeypatch.setenv("ACOLLIDA_VAR_DIR", str(tmp_path / "elsewhere"))
        monkeypatch.delenv("ACOLLIDA_ENDPOINTS", raising=False)
    else:
        database = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("ACOLLIDA_VAR_DIR", str(tmp_path / "production"))
        monkeypatch.setenv("ACOLLIDA_ENDPOINTS", "endpoints.production.yml")
        for name, value in dict(
            TRACKER_DB_HOST="127.0.0.1", TRACKER_DB_PORT="5432", TRACKER_DB_NAME=database.rsplit("/", 1)[1], TRACKER_DB_USER="postgres",
            TRACKER_DB_PASSWORD="", REDIS_HOST="127.0.0.1", REDIS_PORT="6379", REDIS_DB="0",
        ).items():
            monkeypatch.setenv(name, value)
    return request.param


def rows_mentioning(url: str, needles: list[str]) -> list[tuple[str, str]]:
    """(table, value) for every stored value of every table that contains one of the needles."""
    engine = create_engine(url, future=True)
    metadata = MetaData()
    metadata.reflect(engine)
    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if value is not None and any(needle in str(value) for needle in needles):
                        found.append((table.name, str(value)[:80]))
    engine.dispose()
    return found


async def test_forget_leaves_nothing_of_the_person_in_any_store_or_log(deployment, test_model, action_url, knowledge_url, caplog):
    store = settings.tracker_store()
    if deployment == "var_dir_elsewhere":
        assert "elsewhere" in store.url  # the var folder moved the tracker store with it
    port = free_port()
    fake = FakeBotAPI(first_update_id=next(_update_ids)).start()
    group = fake.group(-100_777_000 - port, "Mediadors")
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(WithholdMessageText())  # as `acollida telegram` installs it on its handlers
    try:
        with running_rasa(test_model, settings.endpoints_path(), port) as rasa:
            config = GatewayConfig(
                token=fake.token, base_url=fake.base_url, mediator_chat_id=group.id, rasa_url=rasa.url,
                action_health_url=action_url.replace("/webhook", "/health"), database_url=knowledge_url,
                tracker_database_url=store.url, tick=dt.timedelta(seconds=0.2), poll_timeout=1, rasa_timeout=60,
            )
            newcomer = fake.private_chat(7_100_000 + port, "Núria", language_code="ca")
            async with running(config):
                fake.user_sends(newcomer, newcomer, SECRET)
                await fake.async_wait_for_messages(newcomer, 1, timeout=60)
                assert tracker_events.user_messages(store.url, str(newcomer.id)), "the message is in the store the settings name"
                before = len(fake.messages_to(newcomer))
                fake.user_sends(newcomer, newcomer, "/forget")
                confirm = (await fake.async_wait_for_messages(newcomer, before + 1, timeout=20))[before]
                fake.user_presses(newcomer, newcomer, confirm["message_id"], "forget:yes")
                done = await fake.async_wait_for(lambda: say("forget_done", "ca") in fake.texts_to(newcomer), timeout=30)
                assert done
            tracker = httpx.get(f"{rasa.url}/conversations/{newcomer.id}/tracker", timeout=30).json()
    finally:
        fake.stop()
    assert privacy.erased_in_rasa(tracker), [event["event"] for event in tracker["events"]]
    assert not [e for e in tracker["events"] if e.get("text")]
    needles = [SECRET, "X1234567L", str(newcomer.id)]
    assert rows_mentioning(store.url, needles) == []
    assert rows_mentioning(knowledge_url, needles) == []
    logs = {path.name: path.read_text(encoding="utf-8", errors="replace") for path in settings.log_dir().glob("*.log")}
    assert logs, "Rasa's log file is where the settings say"
    assert [name for name, text in logs.items() if "X1234567L" in text or "Sant Pere 17" in text] == []
    assert not [record for record in caplog.records if "X1234567L" in record.getMessage() or str(newcomer.id) in record.getMessage()]
