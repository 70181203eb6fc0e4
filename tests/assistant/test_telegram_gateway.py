"""The Telegram gateway end to end: real python-telegram-bot, a fake Bot API on loopback, the trained assistant.

Rasa (`rasa run --enable-api`), the action server and the gateway run as in
production; only Telegram is the fake from tests/telegram/fake_bot_api.py.
"""
from __future__ import annotations

import asyncio
import itertools
import datetime as dt

import httpx
import pytest
from sqlalchemy import select

from bot.evaluation import free_port
from bot.handoff import mediators, queue
from bot.handoff.models import CLAIMED, ENDED, OPEN_STATUSES, HandoffRequest
from bot.telegram.models import ChatProfile
from bot.knowledge import answers
from bot.database.sessions import engine_for, session_scope
from bot import tracker_events
from bot.telegram.app import command_menu, running
from bot.telegram.config import GatewayConfig
from bot.texts import say
from tests.assistant.conftest import rasa_endpoints, running_rasa
from tests.telegram.fake_bot_api import FakeBotAPI

pytestmark = pytest.mark.model

ALWAYS = "mon-sun 00:00-23:59"
_group_ids = itertools.count(-100_001, -1)


_update_ids = itertools.count(1_000_000, 1_000_000)


@pytest.fixture
def fake():
    # The tests share one database, where update ids are remembered: each fake Telegram continues the count.
    api = FakeBotAPI(first_update_id=next(_update_ids))
    api.start()
    yield api
    api.stop()


@pytest.fixture
def group_id() -> int:
    """A mediators' group of its own per test: message ids are per chat, and the tests share a database."""
    return next(_group_ids)


@pytest.fixture
def mediators_group(fake, group_id):
    return fake.group(group_id, "Mediadors Osona")


@pytest.fixture
def registered(knowledge_url):
    """Two mediators on duty: Aisha (Arabic, French) and Olena (Ukrainian, Russian, Arabic)."""
    engine = engine_for(knowledge_url)
    with session_scope(engine) as session:
        for user_id, name, languages in ((9001, "Aisha", "ar,fr"), (9002, "Olena", "uk,ru,ar")):
            mediators.register_mediator(session, mediators.read_registration(user_id, name, languages, ALWAYS))
    yield {"Aisha": 9001, "Olena": 9002}
    with session_scope(engine) as session:
        # The tests share a database: a request left open would be released (its mediator gone) into the next test's group.
        for request in session.execute(select(HandoffRequest).where(HandoffRequest.status.in_(OPEN_STATUSES))).scalars():
            request.status = ENDED
        for mediator in mediators.all_mediators(session):
            session.delete(mediator)


def config_for(fake, group_id, rasa_server, action_url, knowledge_url, **overrides) -> GatewayConfig:
    values = dict(
        token=fake.token,
        base_url=fake.base_url,
        mediator_chat_id=group_id,
        rasa_url=rasa_server.url,
        action_health_url=action_url.replace("/webhook", "/health"),
        database_url=knowledge_url,
        tracker_database_url=rasa_server.tracker_database_url,
        tick=dt.timedelta(seconds=0.2),
        poll_timeout=1,
        rasa_timeout=60,
    )
    values.update(overrides)
    return GatewayConfig(**values)


@pytest.fixture
def config(fake, group_id, mediators_group, rasa_server, action_url, knowledge_url) -> GatewayConfig:
    return config_for(fake, group_id, rasa_server, action_url, knowledge_url)


def buttons_of(message: dict) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(button["text"], button.get("callback_data", "")) for row in rows for button in row]


def message_with_button(messages: list[dict], prefix: str) -> dict | None:
    return next((m for m in reversed(messages) if any(data.startswith(prefix) for _, data in buttons_of(m))), None)


async def texts_after(fake, chat, count_before: int, at_least: int = 1, timeout: float = 60) -> list[str]:
    messages = await fake.async_wait_for_messages(chat, count_before + at_least, timeout=timeout)
    return [m.get("text") or "" for m in messages[count_before:]]


def tracker(rasa_server, chat_id: int) -> dict:
    return httpx.get(f"{rasa_server.url}/conversations/{chat_id}/tracker", timeout=30).json()


def user_texts_in_rasa(rasa_server, chat_id: int) -> list[str]:
    return [e["text"] for e in tracker(rasa_server, chat_id)["events"] if e["event"] == "user"]


def request_of(knowledge_url, chat_id: int) -> HandoffRequest | None:
    with session_scope(engine_for(knowledge_url)) as session:
        return session.execute(
            select(HandoffRequest).where(HandoffRequest.chat_id == chat_id).order_by(HandoffRequest.id.desc())
        ).scalars().first()


def transcript_of(knowledge_url, request_id: int) -> list[str]:
    with session_scope(engine_for(knowledge_url)) as session:
        return [message.text for message in session.get(HandoffRequest, request_id).messages]


async def ask_for_a_person(fake, newcomer, mediators_group, first: str | None = None) -> tuple[int, dict]:
    """The newcomer (after a ``first`` message to the bot, if given) asks for a person.

    Returns the request id and its announcement in the mediators' group.
    """
    if first is not None:
        answered = len(fake.messages_to(newcomer))
        fake.user_sends(newcomer, newcomer, first)
        await fake.async_wait_for_messages(newcomer, answered + 1, timeout=60)
    fake.user_sends(newcomer, newcomer, "/human")
    announcement = await fake.async_wait_for(lambda: message_with_button(fake.messages_to(mediators_group), "take:"), timeout=60)
    request_id = int(next(data for _, data in buttons_of(announcement) if data.startswith("take:")).split(":")[1])
    return request_id, announcement


async def test_arabic_question_handoff_both_ways_and_back_to_the_bot(fake, mediators_group, registered, config, rasa_server, knowledge, knowledge_url):
    newcomer = fake.private_chat(5001, "Karim", language_code="ar")
    aisha = fake.user(registered["Aisha"], "Aisha", language_code="ca")
    article = answers.find_article(knowledge, "health_card", ["ar"], None).article
    async with running(config):
        fake.user_sends(newcomer, newcomer, "كيف أحصل على البطاقة الصحية؟")
        replies = await texts_after(fake, newcomer, 0, at_least=2)  # the article, then "which town?"
        assert article.title in replies[0] and replies[1] == say("ask_municipality", "ar") and any(say("button_details", "ar") == t for t, _ in buttons_of(fake.messages_to(newcomer)[0]))

        before = len(fake.messages_to(newcomer))
        request_id, announcement = await ask_for_a_person(fake, newcomer, mediators_group)
        told = await texts_after(fake, newcomer, before)
        assert told[0] == say("handoff_on_duty", "ar", names="Aisha, Olena")
        assert f"#{request_id}" in announcement["text"] and "ar (Arabic)" in announcement["text"] and "Aisha" in announcement["text"]
        assert "كيف أحصل على البطاقة الصحية؟" in announcement["text"]  # the last messages go with it
        assert (await fake.async_wait_for(lambda: tracker(rasa_server, newcomer.id)["paused"], timeout=10)) is True

        before = len(fake.messages_to(newcomer))
        fake.user_presses(mediators_group, aisha, announcement["message_id"], f"take:{request_id}")
        assert (await texts_after(fake, newcomer, before))[0] == say("handoff_claimed", "ar", name="Aisha")

        rasa_heard = len(user_texts_in_rasa(rasa_server, newcomer.id))
        group_before = len(fake.messages_to(mediators_group))
        fake.user_sends(newcomer, newcomer, "أحتاج مساعدة مع الأوراق")
        relayed = await fake.async_wait_for(
            lambda: [m for m in fake.messages_to(mediators_group)[group_before:] if "أحتاج مساعدة مع الأوراق" in (m.get("text") or "")], timeout=20
        )
        assert relayed[0]["text"].startswith(f"👤 #{request_id}")

        before = len(fake.messages_to(newcomer))
        fake.user_sends(mediators_group, aisha, "مرحبا، أنا عائشة. كيف يمكنني مساعدتك؟", reply_to_message_id=relayed[0]["message_id"])
        assert (await texts_after(fake, newcomer, before))[0] == "👤 Aisha: مرحبا، أنا عائشة. كيف يمكنني مساعدتك؟"
        assert len(user_texts_in_rasa(rasa_server, newcomer.id)) == rasa_heard  # the bot never saw the handoff

        before = len(fake.messages_to(newcomer))
        fake.user_sends(mediators_group, aisha, "/end", reply_to_message_id=relayed[0]["message_id"])
        ended = (await fake.async_wait_for_messages(newcomer, before + 1, timeout=20))[before]
        assert ended["text"] == say("handoff_ended", "ar") and len(buttons_of(ended)) == 2
        assert (await fake.async_wait_for(lambda: not tracker(rasa_server, newcomer.id)["paused"], timeout=10)) is True
        assert request_of(knowledge_url, newcomer.id).status == ENDED

        fake.user_presses(newcomer, newcomer, ended["message_id"], buttons_of(ended)[0][1])
        assert (await texts_after(fake, newcomer, before + 1))[0] == say("feedback_thanks", "ar")
        assert (await fake.async_wait_for(lambda: request_of(knowledge_url, newcomer.id).feedback, timeout=10)) == "useful"

        school = answers.find_article(knowledge, "school_enrollment", ["ar"], None).article
        before = len(fake.messages_to(newcomer))
        fake.user_sends(newcomer, newcomer, "أريد تسجيل ابني في المدرسة")
        assert school.title in (await texts_after(fake, newcomer, before))[0]


async def test_two_mediators_take_at_once_and_one_wins(fake, mediators_group, registered, config, knowledge_url):
    newcomer = fake.private_chat(5002, "Oksana", language_code="uk")
    aisha = fake.user(registered["Aisha"], "Aisha")
    olena = fake.user(registered["Olena"], "Olena")
    async with running(config):
        request_id, announcement = await ask_for_a_person(fake, newcomer, mediators_group, first="Привіт")
        before = len(fake.messages_to(newcomer))
        first = fake.user_presses(mediators_group, aisha, announcement["message_id"], f"take:{request_id}")
        second = fake.user_presses(mediators_group, olena, announcement["message_id"], f"take:{request_id}")
        answers_ = await fake.async_wait_for(lambda: len(fake.calls_of("answerCallbackQuery")) >= 2 and fake.calls_of("answerCallbackQuery"), timeout=20)
        by_query = {call["callback_query_id"]: call.get("text", "") for call in answers_}
        assert sorted("is yours" in by_query[q] for q in (first, second)) == [False, True]
        assert any("already taken" in by_query[q] for q in (first, second))
        def claimed() -> list[str]:
            texts = [m.get("text") or "" for m in fake.messages_to(newcomer)[before:]]
            return [t for t in texts if t in (say("handoff_claimed", "uk", name="Aisha"), say("handoff_claimed", "uk", name="Olena"))]

        await fake.async_wait_for(claimed, timeout=20)
        await asyncio.sleep(1)
        assert len(claimed()) == 1  # the newcomer hears of one mediator only
        request = request_of(knowledge_url, newcomer.id)
        assert request.status == CLAIMED


async def test_a_gateway_restart_mid_handoff_loses_nothing(fake, mediators_group, registered, config, rasa_server, knowledge_url):
    newcomer = fake.private_chat(5003, "Ana", language_code="ro")
    aisha = fake.user(registered["Aisha"], "Aisha")
    async with running(config):
        request_id, announcement = await ask_for_a_person(fake, newcomer, mediators_group, first="Bună ziua, am nevoie de ajutor")
        fake.user_presses(mediators_group, aisha, announcement["message_id"], f"take:{request_id}")
        await fake.async_wait_for(lambda: request_of(knowledge_url, newcomer.id).status == CLAIMED, timeout=20)
    # The gateway is down: the newcomer writes; Telegram keeps the update.
    group_before = len(fake.messages_to(mediators_group))
    fake.user_sends(newcomer, newcomer, "Mai sunteți acolo?")
    async with running(config):
        relayed = await fake.async_wait_for(
            lambda: [m for m in fake.messages_to(mediators_group)[group_before:] if "Mai sunteți acolo?" in (m.get("text") or "")], timeout=30
        )
        before = len(fake.messages_to(newcomer))
        fake.user_sends(mediators_group, aisha, "Da, sunt aici.", reply_to_message_id=relayed[0]["message_id"])
        assert (await texts_after(fake, newcomer, before))[0] == "👤 Aisha: Da, sunt aici."
    assert "Mai sunteți acolo?" not in user_texts_in_rasa(rasa_server, newcomer.id)


async def test_when_rasa_is_down_the_newcomer_is_told_and_answered_once_it_is_back(
    fake, mediators_group, action_url, knowledge_url, test_model, tmp_path, knowledge
):
    port = free_port()
    endpoints = rasa_endpoints(tmp_path, action_url)
    down = type("Down", (), {"url": f"http://127.0.0.1:{port}", "tracker_database_url": f"sqlite:///{tmp_path / 'tracker.db'}"})
    config = config_for(fake, mediators_group.id, down, action_url, knowledge_url)
    newcomer = fake.private_chat(5004, "Lucía", language_code="es")
    async with running(config):
        fake.user_sends(newcomer, newcomer, "tarjeta sanitaria")
        assert (await texts_after(fake, newcomer, 0, timeout=20))[0] == say("assistant_unavailable", "es")
        fake.user_sends(newcomer, newcomer, "gracias")
        await asyncio.sleep(1)
        assert len(fake.messages_to(newcomer)) == 1  # told once per outage, not per message
        with running_rasa(test_model, endpoints, port):
            article = answers.find_article(knowledge, "health_card", ["es"], None).article
            thanks = say("thanks", "es")
            texts = await fake.async_wait_for(lambda: fake.texts_to(newcomer) if thanks in fake.texts_to(newcomer) else [], timeout=60)
            assert article.title in texts[1]  # answered in the order written
            assert texts[-1] == thanks


async def test_forget_erases_conversation_profile_and_handoffs_after_confirmation(
    fake, mediators_group, registered, config, rasa_server, knowledge_url
):
    newcomer = fake.private_chat(5005, "Pierre", language_code="fr")
    async with running(config):
        request_id, _ = await ask_for_a_person(fake, newcomer, mediators_group, first="Bonjour, je cherche un cours de catalan")
        await fake.async_wait_for(lambda: say("handoff_on_duty", "fr", names="Aisha") in fake.texts_to(newcomer), timeout=20)
        fake.user_sends(newcomer, newcomer, "Je peux venir demain matin")  # kept for the mediator
        await fake.async_wait_for(lambda: transcript_of(knowledge_url, request_id), timeout=20)
        before = len(fake.messages_to(newcomer))
        fake.user_sends(newcomer, newcomer, "/mydata")
        shown = "\n".join(await texts_after(fake, newcomer, before, at_least=2))
        assert "🙋 Bonjour, je cherche un cours de catalan" in shown and "🙋 Je peux venir demain matin" in shown

        before = len(fake.messages_to(newcomer))
        fake.user_sends(newcomer, newcomer, "/forget")
        confirm = (await fake.async_wait_for_messages(newcomer, before + 1, timeout=20))[before]
        assert confirm["text"] == say("forget_confirm", "fr")
        fake.user_presses(newcomer, newcomer, confirm["message_id"], "forget:yes")
        assert (await texts_after(fake, newcomer, before + 1))[0] == say("forget_done", "fr")

    assert tracker_events.user_messages(rasa_server.tracker_database_url, str(newcomer.id)) == []
    with session_scope(engine_for(knowledge_url)) as session:
        assert session.get(ChatProfile, newcomer.id) is None and session.get(HandoffRequest, request_id) is None
    assert any(f"#{request_id}" in (m.get("text") or "") and "erased" in m["text"] for m in fake.messages_to(mediators_group))


async def test_repeated_update_media_and_groups(fake, mediators_group, config, rasa_server):
    newcomer = fake.private_chat(5006, "Maria", language_code="pt")
    async with running(config):
        fake.user_sends(newcomer, newcomer, "olá")
        update_id = fake.updates[-1]["update_id"]
        await fake.async_wait_for_messages(newcomer, 1, timeout=60)
        answered = len(fake.messages_to(newcomer))
        fake.redeliver(update_id)
        fake.user_sends_voice(newcomer, newcomer)
        after_voice = await texts_after(fake, newcomer, answered)
        assert after_voice == [say("media_not_read", "pt")]  # the repeated "olá" got no second answer

        other_group = fake.group(-100_888, "Associació")
        someone = fake.user(6001, "Joan", language_code="ca")
        fake.user_sends(other_group, someone, "bon dia a tothom")
        fake.user_sends(other_group, someone, f"@{fake.bot_username} on em puc empadronar?")
        await fake.async_wait_for_messages(other_group, 1, timeout=60)
        # only the message addressed to the bot reached the assistant, without the mention
        assert user_texts_in_rasa(rasa_server, other_group.id) == ["on em puc empadronar?"]


async def test_webhook_mode_checks_the_secret_token(fake, mediators_group, rasa_server, action_url, knowledge_url):
    port = free_port()
    config = config_for(
        fake, mediators_group.id, rasa_server, action_url, knowledge_url,
        webhook_url=f"http://127.0.0.1:{port}/telegram", webhook_secret="s3cret-token", webhook_port=port,
    )
    newcomer = fake.private_chat(5007, "Giulia", language_code="it")
    async with running(config):
        assert fake.calls_of("setWebhook")[-1]["secret_token"] == "s3cret-token"
        # the command menu is described in each supported language
        assert [c["description"] for c in fake.commands(language_code="uk")] == [c.description for c in command_menu("uk")]
        assert fake.commands(language_code="uk")[3]["description"] == say("button_human", "uk")
        fake.user_sends(newcomer, newcomer, "ciao")
        await fake.async_wait_for_messages(newcomer, 1, timeout=60)
        forged = {"update_id": 99_999_999, "message": {**fake.messages_to(newcomer)[0], "from": newcomer.user.as_json(), "text": "ciao di nuovo"}}
        status = await fake.async_post_to_webhook(forged, secret="wrong")
        assert status == 403
        await asyncio.sleep(1)
        assert len(fake.messages_to(newcomer)) == 1


async def test_a_forum_group_gets_a_topic_per_conversation(fake, group_id, registered, rasa_server, action_url, knowledge_url):
    forum = fake.group(group_id, "Mediadors Osona", is_forum=True)
    config = config_for(fake, group_id, rasa_server, action_url, knowledge_url)
    newcomer = fake.private_chat(5008, "Olga", language_code="ru")
    olena = fake.user(registered["Olena"], "Olena")
    async with running(config):
        request_id, announcement = await ask_for_a_person(fake, newcomer, forum, first="Здравствуйте")
        fake.user_presses(forum, olena, announcement["message_id"], f"take:{request_id}")
        topic = (await fake.async_wait_for(lambda: fake.topics(forum), timeout=20))[0]
        assert topic.name.startswith(f"#{request_id}")
        group_before = len(fake.messages_to(forum))
        fake.user_sends(newcomer, newcomer, "Мне нужна помощь с документами")
        relayed = await fake.async_wait_for(lambda: [m for m in fake.messages_to(forum)[group_before:] if "документами" in (m.get("text") or "")], timeout=20)
        assert relayed[0].get("message_thread_id") == topic.message_thread_id
        before = len(fake.messages_to(newcomer))
        fake.user_sends(forum, olena, "Добрый день, я Олена.", message_thread_id=topic.message_thread_id)
        assert (await texts_after(fake, newcomer, before))[0] == "👤 Olena: Добрый день, я Олена."
        fake.user_sends_photo(newcomer, newcomer, caption="мой паспорт")
        photos = await fake.async_wait_for(lambda: [m for m in fake.messages_to(forum) if "photo" in m], timeout=20)
        assert photos[0].get("message_thread_id") == topic.message_thread_id  # media reach the mediator as they are
        before = len(fake.messages_to(newcomer))
        stranger = fake.user(7777, "Intrús")
        fake.user_sends(forum, stranger, "hola", message_thread_id=topic.message_thread_id)
        await asyncio.sleep(1)
        assert len(fake.messages_to(newcomer)) == before  # only registered mediators reach the newcomer


async def test_one_chat_writing_fast_is_held_back_in_order_without_losing_anything(fake, mediators_group, rasa_server, action_url, knowledge_url):
    config = config_for(fake, mediators_group.id, rasa_server, action_url, knowledge_url, flood_burst=2, flood_interval=dt.timedelta(seconds=3))
    fast = fake.private_chat(5009, "Iryna", language_code="uk")
    async with running(config):
        for text in ("привіт", "дякую", "до побачення", "дякую"):
            fake.user_sends(fast, fast, text)
        texts = await fake.async_wait_for(
            lambda: [t for t in fake.texts_to(fast) if t != say("flood_notice", "uk")] if len(fake.texts_to(fast)) >= 5 else [], timeout=60
        )
        assert say("flood_notice", "uk") in fake.texts_to(fast)
        # every message answered, in the order written
        assert texts[-1] == say("thanks", "uk") and texts[-2] == say("goodbye", "uk")


async def test_buttons_venues_and_telegram_flood_control(fake, mediators_group, config, knowledge):
    newcomer = fake.private_chat(5010, "Jordi", language_code="ca")
    async with running(config):
        fake.fail_next("sendMessage", times=1, retry_after=1)  # Telegram says: too many requests, retry after 1 s
        fake.user_sends(newcomer, newcomer, "targeta sanitària")
        summary = (await fake.async_wait_for_messages(newcomer, 1, timeout=60))[0]
        assert len(fake.calls_of("sendMessage")) >= 2  # the refused call was made again
        where = next(data for title, data in buttons_of(summary) if title == say("button_where", "ca"))
        assert len(where.encode()) <= 64
        fake.user_presses(newcomer, newcomer, summary["message_id"], where)
        venues = await fake.async_wait_for(lambda: [m for m in fake.messages_to(newcomer) if "venue" in m], timeout=60)
        offices = answers.find_article(knowledge, "health_card", ["ca"], None).article.offices
        assert venues[0]["venue"]["title"] in {office.name for office in offices}
        pressed = fake.messages_to(newcomer)[0]
        assert pressed["text"].endswith(f"➤ {say('button_where', 'ca')}") and not buttons_of(pressed)


async def test_release_transfer_and_going_back_to_the_assistant(fake, mediators_group, registered, config, rasa_server, knowledge_url):
    newcomer = fake.private_chat(5011, "Samira", language_code="ar")
    aisha = fake.user(registered["Aisha"], "Aisha")
    olena = fake.user(registered["Olena"], "Olena")
    async with running(config):
        request_id, announcement = await ask_for_a_person(fake, newcomer, mediators_group, first="مرحبا")
        fake.user_presses(mediators_group, aisha, announcement["message_id"], f"take:{request_id}")
        header = await fake.async_wait_for(lambda: message_with_button(fake.messages_to(mediators_group), f"release:{request_id}"), timeout=20)
        await fake.async_wait_for(lambda: say("handoff_claimed", "ar", name="Aisha") in fake.texts_to(newcomer), timeout=20)

        before = len(fake.messages_to(newcomer))
        fake.user_sends(mediators_group, olena, "/end", reply_to_message_id=header["message_id"])  # not hers
        await fake.async_wait_for(lambda: any("not held by you" in (m.get("text") or "") for m in fake.messages_to(mediators_group)), timeout=20)
        assert request_of(knowledge_url, newcomer.id).status == CLAIMED

        fake.user_presses(mediators_group, aisha, header["message_id"], f"release:{request_id}")
        assert say("handoff_released", "ar") in await texts_after(fake, newcomer, before)
        again = await fake.async_wait_for(
            lambda: [m for m in fake.messages_to(mediators_group) if m["message_id"] > header["message_id"] and any(d == f"take:{request_id}" for _, d in buttons_of(m))],
            timeout=20,
        )
        fake.user_presses(mediators_group, olena, again[0]["message_id"], f"take:{request_id}")
        await fake.async_wait_for(lambda: say("handoff_claimed", "ar", name="Olena") in fake.texts_to(newcomer), timeout=20)

        header = await fake.async_wait_for(
            # the new announcement is edited into the header: the same message, now with Release
            lambda: [m for m in fake.messages_to(mediators_group) if m["message_id"] >= again[0]["message_id"] and any(d == f"release:{request_id}" for _, d in buttons_of(m))],
            timeout=20,
        )
        fake.user_sends(mediators_group, olena, f"/transfer {registered['Aisha']}", reply_to_message_id=header[0]["message_id"])
        await fake.async_wait_for(lambda: say("handoff_transferred", "ar", name="Aisha") in fake.texts_to(newcomer), timeout=20)

        claimed_message = next(m for m in fake.messages_to(newcomer) if m.get("text") == say("handoff_on_duty", "ar", names="Aisha, Olena"))
        back = next(data for _, data in buttons_of(claimed_message) if data.startswith("cancel:"))
        fake.user_presses(newcomer, newcomer, claimed_message["message_id"], back)
        await fake.async_wait_for(lambda: say("handoff_cancelled", "ar") in fake.texts_to(newcomer), timeout=20)
        assert (await fake.async_wait_for(lambda: not tracker(rasa_server, newcomer.id)["paused"], timeout=10)) is True


async def test_an_unclaimed_request_is_announced_again_and_the_newcomer_kept_informed(
    fake, mediators_group, registered, rasa_server, action_url, knowledge_url
):
    config = config_for(fake, mediators_group.id, rasa_server, action_url, knowledge_url, reannounce_every=dt.timedelta(seconds=1))
    newcomer = fake.private_chat(5012, "Nadia", language_code="fr")
    async with running(config):
        request_id, _ = await ask_for_a_person(fake, newcomer, mediators_group, first="Bonjour")
        again = await fake.async_wait_for(
            lambda: [m for m in fake.messages_to(mediators_group) if (m.get("text") or "").startswith(f"🔁 Still waiting #{request_id}")], timeout=20
        )
        assert any(d == f"take:{request_id}" for _, d in buttons_of(again[0]))
        informed = await fake.async_wait_for(lambda: [t for t in fake.texts_to(newcomer) if t.startswith(say("handoff_still_waiting", "fr"))], timeout=20)
        assert say("handoff_on_duty", "fr", names="Aisha") in informed[0]


async def test_answers_survive_telegram_refusing_them_for_a_while(fake, mediators_group, config, knowledge):
    """A 500 for 3 s, then 429 four times: the answer Rasa gave still reaches the newcomer, once."""
    newcomer = fake.private_chat(5013, "Marta", language_code="es")
    article = answers.find_article(knowledge, "health_card", ["es"], None).article
    async with running(config):
        fake.fail_for("sendMessage", 3.0, error_code=500)
        fake.user_sends(newcomer, newcomer, "tarjeta sanitaria")
        texts = await fake.async_wait_for(lambda: [t for t in fake.texts_to(newcomer) if article.title in t], timeout=60)
        await fake.async_wait_for(lambda: say("ask_municipality", "es") in fake.texts_to(newcomer), timeout=30)
        assert len(texts) == 1
        assert len(fake.calls_of("sendMessage")) > len(fake.accepted_calls_of("sendMessage"))  # refused, then sent again
        fake.fail_next("sendMessage", times=4, retry_after=1)
        before = len(fake.messages_to(newcomer))
        fake.user_sends(newcomer, newcomer, "gracias")
        assert (await texts_after(fake, newcomer, before, timeout=60))[0] == say("thanks", "es")


async def test_every_update_gets_an_answer_and_bad_input_breaks_nothing(fake, mediators_group, config, rasa_server):
    newcomer = fake.private_chat(5014, "Ioana", language_code="ro")
    async with running(config):
        fake.user_sends(newcomer, newcomer, "/foo")
        assert (await texts_after(fake, newcomer, 0, timeout=30))[0] == say("unknown_command", "ro")
        fake.user_sends_dice(newcomer, newcomer)
        assert (await texts_after(fake, newcomer, 1, timeout=30))[0] == say("media_not_read", "ro")
        fake.user_sends_story(newcomer, newcomer)
        assert (await texts_after(fake, newcomer, 2, timeout=30))[0] == say("media_not_read", "ro")
        # zero-width characters inside a word do not change what it means
        fake.user_sends(newcomer, newcomer, "mul\u200bțu\u00admesc")
        assert (await texts_after(fake, newcomer, 3, timeout=60))[0] == say("thanks", "ro")
        assert user_texts_in_rasa(rasa_server, newcomer.id)[-1] == "mulțumesc"
        # a number no request can have ("take:<23 digits>") is no request, not an OverflowError in the database
        assert queue.request_number("9" * 23) is None and queue.request_number("12") == 12

        group = fake.group(-100_999, "Veïns")
        member = fake.user(6002, "Pau", language_code="ca")
        fake.user_sends(group, member, "/mydata")
        assert (await fake.async_wait_for_messages(group, 1, timeout=30))[0]["text"] == say("privacy_private_only", "ca")


async def test_a_removed_mediators_conversations_go_back_to_the_queue(fake, mediators_group, registered, config, knowledge_url):
    newcomer = fake.private_chat(5015, "Fatima", language_code="fr")
    aisha = fake.user(registered["Aisha"], "Aisha")
    async with running(config):
        request_id, announcement = await ask_for_a_person(fake, newcomer, mediators_group, first="Bonjour")
        fake.user_presses(mediators_group, aisha, announcement["message_id"], f"take:{request_id}")
        await fake.async_wait_for(lambda: say("handoff_claimed", "fr", name="Aisha") in fake.texts_to(newcomer), timeout=20)
        with session_scope(engine_for(knowledge_url)) as session:
            session.delete(mediators.by_telegram_id(session, registered["Aisha"]))  # what `acollida mediators remove` does
        await fake.async_wait_for(lambda: say("handoff_released", "fr") in fake.texts_to(newcomer), timeout=20)
        again = await fake.async_wait_for(
            lambda: [m for m in fake.messages_to(mediators_group) if m["message_id"] > announcement["message_id"] and any(d == f"take:{request_id}" for _, d in buttons_of(m))],
            timeout=20,
        )
        assert again and request_of(knowledge_url, newcomer.id).status == "waiting"


async def test_gateway_runs_without_a_mediators_group(fake, rasa_server, action_url, knowledge_url):
    """A token and no TELEGRAM_MEDIATOR_CHAT_ID (no mediators registered): the gateway starts and answers."""
    config = config_for(fake, None, rasa_server, action_url, knowledge_url)
    newcomer = fake.private_chat(5016, "Ali", language_code="ur")
    async with running(config):
        fake.user_sends(newcomer, newcomer, "شکریہ")
        assert (await texts_after(fake, newcomer, 0, timeout=60))[0] == say("thanks", "ur")
