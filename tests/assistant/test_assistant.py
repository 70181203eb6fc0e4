"""The whole assistant: trained model, policies, actions, knowledge base."""
from __future__ import annotations

import uuid

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.knowledge import answers
from bot.languages import LANGUAGE_CODES
from bot.texts import say

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def say_to(agent, text: str, sender: str | None = None, hint: str | None = None) -> tuple[list[dict], str]:
    sender = sender or f"test-{uuid.uuid4().hex[:8]}"
    channel = CollectingOutputChannel()
    await agent.handle_message(UserMessage(text, channel, sender, metadata={"language_code": hint} if hint else {}))
    tracker = await agent.tracker_store.retrieve(sender)
    bot_events = [event for event in tracker.events if event.as_dict()["event"] == "bot"]
    return [event.as_dict() for event in bot_events], sender


async def test_an_arabic_question_gets_the_arabic_article(agent, knowledge):
    replies, _ = await say_to(agent, "كيف احصل على البطاقة الصحية")
    article = answers.find_article(knowledge, "health_card", ["ar"], None).article
    assert replies[0]["metadata"]["answer"] == "health_card"
    assert article.short_answer in replies[0]["text"]


async def test_the_language_sticks_for_a_short_reply(agent):
    _, sender = await say_to(agent, "Добрий день, мені потрібна медична картка")
    replies, _ = await say_to(agent, "ok", sender)
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("language") == "uk"
    assert all(reply["metadata"]["language"] == "uk" for reply in replies)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "a" * 5000, "necesito ayuda " * 350, "🙏🙏🙏", "😀", "Hola привет مرحبا γεια", "ሰላም እንዴት ነህ", "ⴰⵣⵓⵍ ⴼⵍⵍⴰⵡⵏ", "12345"],
    ids=["empty", "blank", "5000 letters", "5250 characters", "emoji", "one emoji", "mixed scripts", "Amharic", "Tifinagh", "digits"],
)
async def test_bad_input_gets_a_readable_reply_and_loses_nothing(agent, text):
    first, sender = await say_to(agent, "necesito la tarjeta sanitaria")
    assert first[0]["metadata"]["answer"] == "health_card"
    replies, _ = await say_to(agent, text, sender)
    assert replies[len(first):], "no reply to the second message"
    assert all(reply["metadata"]["language"] in LANGUAGE_CODES for reply in replies)
    tracker = await agent.tracker_store.retrieve(sender)
    user_texts = [event.text for event in tracker.events if event.as_dict()["event"] == "user"]
    # Rasa stores the text as received, trimmed
    assert user_texts == ["necesito la tarjeta sanitaria", text.strip()]


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("ሰላም እንዴት ነህ፣ ሆስፒታል የት ነው", "ti"),  # Tigrinya: a script no supported language uses
        ("שלום, איפה בית החולים?", "he"),  # Hebrew: a script no supported language uses
        ("Здравейте, къде е болницата?", None),  # Bulgarian: Russian's letters, another language
    ],
    ids=["Tigrinya", "Hebrew", "Bulgarian"],
)
async def test_an_unsupported_language_gets_the_menu_and_a_person(agent, text, hint):
    replies, _ = await say_to(agent, text, hint=hint)
    payloads = [button["payload"] for reply in replies for button in reply["data"].get("buttons") or []]
    assert "/request_human" in payloads and sum(p.startswith("/choose_language") for p in payloads) == len(LANGUAGE_CODES)


async def test_buttons_drive_the_conversation(agent):
    replies, sender = await say_to(agent, "quiero empadronarme")
    assert replies[0]["metadata"]["answer"] == "municipal_registration"
    town = next(b for r in replies for b in r["data"].get("buttons") or [] if b["payload"].startswith("/inform_municipality"))
    replies, _ = await say_to(agent, town["payload"], sender)
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("municipality") is not None
    assert replies[-1]["metadata"]["answer"] == "municipal_registration"


@pytest.mark.parametrize(
    ("text", "language", "topic"),
    [("mujhe kaam chahiye", "ur", "employment"), ("I have nothing to eat", "en", "social_services"), ("мне нечего есть", "ru", "social_services")],
    ids=["Roman Urdu", "English need", "Russian need"],
)
async def test_the_issue_examples_are_understood(agent, text, language, topic):
    replies, sender = await say_to(agent, text)
    assert replies[0]["metadata"]["answer"] == topic and replies[0]["metadata"]["language"] == language


async def test_roman_urdu_is_answered_in_urdu_script_with_a_one_tap_switch(agent):
    replies, sender = await say_to(agent, "mujhe kaam chahiye")
    offer = replies[-1]
    assert offer["text"] == say("other_script_offer", "ur", language_name="اردو")
    assert any('"language": "en"' in button["payload"] for button in offer["data"]["buttons"])
    assert any("\u0600" <= char <= "\u06ff" for char in replies[0]["text"])  # Urdu's own letters
    again, _ = await say_to(agent, "shukriya", sender)
    assert all(reply["text"] != offer["text"] for reply in again[len(replies):])  # offered once
