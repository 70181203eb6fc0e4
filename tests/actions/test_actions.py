"""The custom actions, run the way the action server runs them, on tracker fixtures."""
from __future__ import annotations

from bot.languages import LANGUAGE_CODES

from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerTopic, ActionFallback
from actions.handoff import ActionAffirm, ActionRequestHuman
from actions.language import ActionChooseLanguage, ValidateSlotMappings
from actions.small_talk import ActionSmallTalk
from bot.language import detect
from bot.texts import catalogue, say

DOMAIN = yaml.safe_load(open("domain.yml", encoding="utf-8"))
SLOTS = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}


def tracker(text: str, intent: str, entities: list[dict] | None = None, hint: str | None = None, **slots: Any) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "language": detect(text, hint=hint).as_dict(),
        "metadata": {"language_code": hint} if hint else {},
    }
    return Tracker("newcomer-1", {**SLOTS, **slots}, latest, [], False, None, {}, "action_listen")


async def run(action, tracker: Tracker) -> tuple[list[dict], dict]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.fixture(autouse=True)
def _knowledge(use_knowledge):
    return use_knowledge


async def extracted(t: Tracker) -> dict:
    dispatcher = CollectingDispatcher()
    events = await ValidateSlotMappings().run(dispatcher, t, DOMAIN)
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_first_message_sets_the_conversation_language():
    slots = await extracted(tracker("أريد بطاقة صحية", "health_card"))
    assert slots["language"] == "ar" and slots["language_chosen"] is False


async def test_a_short_ambiguous_message_does_not_flip_the_language():
    slots = await extracted(tracker("ok", "affirm", language="uk"))
    assert slots["language"] == "uk"


async def test_an_explicit_choice_wins_and_sticks():
    chosen = await extracted(tracker('/choose_language{"language":"fr"}', "choose_language", [{"entity": "language", "value": "fr"}], language="es"))
    assert chosen["language"] == "fr" and chosen["language_chosen"] is True and chosen["language_chosen_now"] is True
    later = await extracted(tracker("necesito la tarjeta sanitaria por favor", "health_card", language="fr", language_chosen=True))
    assert later["language"] == "fr" and later["language_chosen_now"] is False


async def test_a_typed_town_name_sets_the_municipality():
    slots = await extracted(tracker("visc a torello", "inform_municipality", language="ca"))
    assert slots["municipality"] == "torello"


async def test_an_unknown_town_clears_the_old_one():
    slots = await extracted(tracker("I live in Girona", "inform_municipality", language="en", municipality="vic"))
    assert slots["municipality"] is None


async def test_answer_topic_answers_in_the_slot_language():
    messages, slots = await run(ActionAnswerTopic(), tracker("health card", "health_card", language="ru"))
    assert messages[0]["answer"] == "health_card" and messages[0]["language"] == "ru"
    assert slots["topic"] == "health_card"


async def test_details_button_answers_the_topic_it_names():
    t = tracker('/ask_details{"topic":"housing"}', "ask_details", [{"entity": "topic", "value": "housing"}], language="it")
    messages, _ = await run(ActionAnswerTopic(), t)
    assert messages[0]["answer"] == "housing" and catalogue("it")["details_source"].split("{")[0] in messages[0]["text"]


async def test_choose_language_without_a_name_shows_the_menu():
    messages, _ = await run(ActionChooseLanguage(), tracker("change language", "choose_language", language="en"))
    assert messages[0]["text"] == say("language_menu", "en") and len(messages[0]["buttons"]) == len(LANGUAGE_CODES)


async def test_choose_language_confirms_in_the_new_language():
    t = tracker("in romanian please", "choose_language", language="ro", language_chosen_now=True)
    messages, _ = await run(ActionChooseLanguage(), t)
    assert messages[0]["text"] == say("language_changed", "ro")


async def test_small_talk_and_request_human():
    messages, _ = await run(ActionSmallTalk(), tracker("bye", "goodbye", language="pt"))
    assert messages[0]["text"] == say("goodbye", "pt")
    messages, _ = await run(ActionRequestHuman(), tracker("persona", "request_human", language="es"))
    assert messages[0]["answer"] == "handoff"


async def test_yes_after_an_offer_of_a_person_hands_off():
    messages, slots = await run(ActionAffirm(), tracker("yes", "affirm", language="en", pending_offer="failures"))
    assert messages[0]["answer"] == "handoff" and slots["pending_offer"] is None


async def test_fallback_for_emoji_asks_for_words_in_the_conversation_language():
    messages, _ = await run(ActionFallback(), tracker("🙏🙏", "nlu_fallback", language="el"))
    assert messages[0]["text"] == say("no_text", "el")
