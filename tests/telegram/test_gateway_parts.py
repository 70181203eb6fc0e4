"""The gateway's parts that need no Telegram: splitting, buttons, kept messages, flood limit, config, retention."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import privacy
from bot.handoff import mediators, queue
from bot.handoff.models import HandoffRequest, TranscriptMessage
from bot.telegram.models import UPDATE_PENDING, ButtonPayload, ChatProfile, ReceivedUpdate
from bot.database.schema import upgrade_schema
from bot.database.sessions import engine_for, session_scope
from bot.telegram import inbox, rendering
from bot.telegram.app import check_ready, file_url_for
from bot.telegram.config import ConfigurationError, GatewayConfig, from_environment


@pytest.fixture
def session(database_url):
    upgrade_schema(database_url)
    with session_scope(engine_for(database_url)) as session:
        yield session


def test_long_texts_are_split_within_telegrams_limit_at_natural_places():
    paragraph = "Paraula " * 300  # 2,400 characters
    pieces = rendering.split_text(f"{paragraph}\n\n{paragraph}\n\n{paragraph}")
    assert len(pieces) == 2 and all(len(piece) <= rendering.TELEGRAM_TEXT_LIMIT for piece in pieces)
    assert pieces[0].endswith("Paraula") and not pieces[1].startswith(" ")
    unbroken = "x" * 9000
    assert [len(piece) for piece in rendering.split_text(unbroken)] == [4096, 4096, 808]
    assert rendering.split_text("  hola  ") == ["hola"]


def test_button_payloads_fit_in_callback_data_and_come_back(session):
    payload = '/answer_topic{"topic": "school_enrollment", "municipality": "sant_julia_de_vilatorta"}'
    data = rendering.payload_key(session, payload)
    assert len(data.encode()) <= 64 and rendering.payload_key(session, payload) == data
    assert rendering.payload_of(session, data) == payload
    assert rendering.payload_of(session, "p:unknown") is None


def test_rasa_replies_become_texts_venues_and_handoffs(session):
    out = rendering.render(
        session,
        [
            {"recipient_id": "1", "text": "Hola", "buttons": [{"title": "Més", "payload": "/ask_details"}]},
            {"recipient_id": "1", "custom": {"venue": {"latitude": 41.93, "longitude": 2.25, "title": "OAC Vic", "address": "Pl. Major 1"}}},
            {"recipient_id": "1", "text": "Una mediadora us escriurà"},
            {"recipient_id": "1", "custom": {"handoff": {"request_id": 12}}},
        ],
    )
    assert [type(item).__name__ for item in out] == ["TextOut", "VenueOut", "TextOut", "HandoffOpened"]
    assert out[0].buttons[0][0] == "Més" and out[0].buttons[0][1].startswith(rendering.PAYLOAD_PREFIX)
    assert out[1].title == "OAC Vic" and out[3].request_id == 12


def test_an_update_is_recorded_on_arrival_handled_once_and_a_kept_message_waits_in_order(session):
    inbox.record(session, 100, 42, {"update_id": 100})
    inbox.record(session, 100, 42, {"update_id": 100})  # Telegram delivered it again: still one
    inbox.record(session, 101, 42, {"update_id": 101})
    assert inbox.claim(session, 100) and not inbox.claim(session, 100)  # one replica handles it, once
    assert inbox.earlier_in_hand(session, 42, 101) and not inbox.earlier_in_hand(session, 42, 100)
    assert inbox.claim(session, 101)
    inbox.keep(session, 101, "segon", {"chat_id": 42})
    assert inbox.earlier_unanswered(session, 42, 101)  # 100 is still being handled: 101 waits for it
    inbox.keep(session, 100, "primer", {"chat_id": 42})
    assert [u.text for u in inbox.pending_of(session, 42)] == ["primer", "segon"]
    assert session.get(ReceivedUpdate, 100).raw is None  # once kept, the update itself is not
    assert inbox.chats_with_pending(session) == [42]
    inbox.answered(session, 100)
    stored = session.get(ReceivedUpdate, 100)
    assert stored.text is None and stored.status != UPDATE_PENDING  # the text is not kept once answered
    assert not inbox.earlier_unanswered(session, 42, 101)
    inbox.forget_chat(session, 42)
    assert inbox.pending_of(session, 42) == []


def test_what_a_replica_that_died_had_received_is_handed_out_again_then_given_up(session):
    inbox.record(session, 200, 43, {"update_id": 200, "message": {"text": "hola"}})
    inbox.record(session, 201, 43, {"update_id": 201})
    assert inbox.claim(session, 201)  # a replica began 201 and died
    assert inbox.abandoned(session) == []  # not yet: handling takes seconds
    later = dt.datetime.now(dt.timezone.utc) + inbox.ABANDONED_AFTER + dt.timedelta(seconds=1)
    assert [raw["update_id"] for raw in inbox.abandoned(session, later)] == [200, 201]
    assert inbox.claim(session, 200) and inbox.claim(session, 201)  # each can be handled again, once
    for _ in range(inbox.MAX_HANDLING_ATTEMPTS):
        later += inbox.ABANDONED_AFTER * 2
        inbox.abandoned(session, later)
        inbox.claim(session, 201)
    assert 201 not in [raw["update_id"] for raw in inbox.abandoned(session, later + inbox.ABANDONED_AFTER * 2)]
    assert session.get(ReceivedUpdate, 201).raw is None  # an update that keeps failing is not kept for ever


def test_configuration_comes_from_the_environment_and_says_what_is_missing(monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="TELEGRAM_BOT_TOKEN"):
        from_environment()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("TELEGRAM_MEDIATOR_CHAT_ID", "mediadors")
    with pytest.raises(ConfigurationError, match="TELEGRAM_MEDIATOR_CHAT_ID"):
        from_environment()
    monkeypatch.setenv("TELEGRAM_MEDIATOR_CHAT_ID", "-1001234")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://example.org/telegram")
    with pytest.raises(ConfigurationError, match="SECRET"):
        from_environment()
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:8081/bot")
    config = from_environment()
    assert config.mediator_chat_id == -1001234 and config.webhook_mode and config.base_url == "http://127.0.0.1:8081/bot"
    assert file_url_for(config.base_url) == "http://127.0.0.1:8081/file/bot"


def test_retention_removes_old_gateway_records_but_keeps_open_handoffs(database_url):
    upgrade_schema(database_url)
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=100)
    with session_scope(engine_for(database_url)) as session:
        for chat_id in (1, 2, 3):
            session.add(ChatProfile(chat_id=chat_id, first_seen_at=old, last_seen_at=old))
        session.flush()
        closed, _ = queue.open_request(session, chat_id=1, sender_id="1", language="ar", reason="asked")
        queue.record(session, closed, "newcomer", "text", "un missatge antic")
        queue.close(session, closed)
        closed.created_at = old
        still_open, _ = queue.open_request(session, chat_id=2, sender_id="2", language="uk", reason="asked")
        still_open.created_at = old
        session.add(ReceivedUpdate(update_id=1, chat_id=3, status="done", received_at=old))
        session.add(ButtonPayload(key="k", payload="/greet", created_at=old))
    assert privacy.purge_gateway_data(database_url, days=90) > 0
    with session_scope(engine_for(database_url)) as session:
        assert session.get(ChatProfile, 1) is None and session.get(ChatProfile, 3) is None
        assert session.get(ChatProfile, 2) is not None and session.get(HandoffRequest, still_open.id) is not None
        assert session.get(HandoffRequest, closed.id) is None
        assert session.execute(select(TranscriptMessage)).first() is None
        assert session.get(ReceivedUpdate, 1) is None and session.get(ButtonPayload, "k") is None


def test_the_gateway_will_not_promise_mediators_it_cannot_reach(sqlite_url):
    config = GatewayConfig(token="1:abc", database_url=sqlite_url)
    check_ready(config)  # no mediators registered: the assistant gives the office's contact instead
    with session_scope(engine_for(sqlite_url)) as session:
        mediators.register_mediator(session, mediators.read_registration(1, "Aisha", "ar", "mon-fri 09:00-14:00"))
    with pytest.raises(ConfigurationError, match="TELEGRAM_MEDIATOR_CHAT_ID"):
        check_ready(config)
    check_ready(GatewayConfig(token="1:abc", database_url=sqlite_url, mediator_chat_id=-100))
