"""The turn logic in bot.conversation, on the shipped knowledge pack."""
from __future__ import annotations

from bot.languages import LANGUAGE_CODES

import dataclasses
import json

import pytest

from bot import conversation
from bot.handoff.models import REASON_FAILURES, REASON_SENSITIVE
from bot.conversation import Context
from bot.knowledge import answers
from bot.database.schema import upgrade_schema
from bot.database.sessions import engine_for, session_scope
from bot.knowledge.store import replace_content
from bot.language import detect
from bot.texts import say


def context(text: str, language: str | None = "en", **values) -> Context:
    return Context(text=text, detection=detect(text), language=language, **values)


def payload_entities(button: dict) -> dict:
    payload = button["payload"]
    return json.loads(payload[payload.index("{"):]) if "{" in payload else {}


def test_topic_answer_is_in_the_conversation_language_with_next_steps(knowledge):
    turn = conversation.answer_topic(knowledge, context("tarjeta sanitaria", "ar"), "health_card")
    summary = turn.replies[0]
    assert summary["language"] == "ar" and summary["answer"] == "health_card"
    article = answers.find_article(knowledge, "health_card", ["ar"], None).article
    assert article.short_answer in summary["text"]
    titles = [button["title"] for button in summary["buttons"]]
    assert say("button_details", "ar") in titles and say("button_human", "ar") in titles
    assert turn.slots["topic"] == "health_card"


def test_municipality_is_asked_for_when_the_topic_has_variants(knowledge):
    turn = conversation.answer_topic(knowledge, context("padron"), "municipal_registration")
    ask = turn.replies[-1]
    assert ask["text"] == say("ask_municipality", "en")
    assert {payload_entities(b)["municipality"] for b in ask["buttons"]} == {m.key for m in answers.municipalities(knowledge)}


def test_the_municipal_variant_is_answered_once_the_town_is_known(knowledge):
    town = answers.municipalities(knowledge)[0]
    variant = answers.find_article(knowledge, "health_card", ["en"], town.key).article
    assert variant.municipality_key == town.key
    turn = conversation.inform_municipality(knowledge, context(town.name, topic="health_card", municipality=town.key))
    assert turn.replies[0]["text"] == say("municipality_set", "en", municipality=town.name)
    assert any(variant.short_answer in reply["text"] for reply in turn.replies)
    assert not any(reply["text"] == say("ask_municipality", "en") for reply in turn.replies)


def test_a_sensitive_topic_offers_a_person(knowledge):
    turn = conversation.answer_topic(knowledge, context("asylum"), "asylum")
    assert turn.replies[-1]["text"] == say("sensitive_offer", "en")
    assert turn.slots["pending_offer"] == REASON_SENSITIVE
    after_yes = conversation.affirm(knowledge, context("yes", pending_offer=REASON_SENSITIVE))
    assert after_yes.replies[0]["answer"] == "handoff"


def test_missing_translation_falls_back_to_a_readable_language_and_says_so(shipped_pack, sqlite_url):
    without_greek = dataclasses.replace(
        shipped_pack, articles=[a for a in shipped_pack.articles if (a.topic, a.language) != ("health_card", "el")]
    )
    upgrade_schema(sqlite_url)
    with session_scope(engine_for(sqlite_url)) as session:
        replace_content(session, without_greek)
        turn = conversation.answer_topic(session, context("κάρτα υγείας", "el", hint="en"), "health_card")
    assert turn.replies[0]["text"] == say("article_in_other_language", "el", language="English")
    assert turn.replies[0]["language"] == "el" and turn.replies[1]["language"] == "en"


def test_details_give_documents_steps_and_the_dated_source(knowledge):
    turn = conversation.answer_details(knowledge, context("more", "es", topic="health_card"), None)
    text = turn.replies[0]["text"]
    article = answers.find_article(knowledge, "health_card", ["es"], None).article
    assert say("details_documents", "es") in text and article.documents[0] in text
    assert article.source_url in text and article.last_reviewed.isoformat() in text


def test_where_to_go_sends_offices_with_a_map_location(knowledge):
    turn = conversation.answer_location(knowledge, context("where", "fr", topic="health_card"), None)
    assert turn.replies[0]["text"] == say("offices_heading", "fr")
    cards = turn.replies[1:]
    assert cards and all("venue" in card["json_message"] for card in cards if "json_message" in card)
    assert any(say("office_sample", "fr") in card["text"] for card in cards)


def test_unclear_message_searches_the_knowledge_base_in_the_persons_language(knowledge):
    turn = conversation.not_understood(knowledge, context("empadronament certificat ajuntament", "ca"))
    topics = [reply["answer"] for reply in turn.replies] + [b["payload"] for r in turn.replies for b in r.get("buttons", [])]
    assert any("municipal_registration" in str(topic) for topic in topics)


def test_two_failures_in_a_row_offer_a_person(knowledge):
    first = conversation.not_understood(knowledge, context("zzqx blorp", "en"))
    assert first.slots["fallback_count"] == 1
    second = conversation.not_understood(knowledge, context("zzqx blorp", "en", fallback_count=1))
    assert second.replies[0]["text"] == say("offer_human_after_failures", "en")
    assert second.slots["pending_offer"] == REASON_FAILURES


def test_text_without_letters_is_asked_for_in_words(knowledge):
    turn = conversation.not_understood(knowledge, context("👍🙏", "uk"))
    assert turn.replies[0]["text"] == say("no_text", "uk")


@pytest.mark.parametrize(
    ("text", "hint"),
    [("ሰላም እንዴት ነህ", "ti"), ("שלום, אני צריך עזרה", "he"), ("Имам нужда от помощ", "bg")],
    ids=["Tigrinya", "Hebrew", "Bulgarian"],
)
def test_an_unsupported_language_gets_the_menu_and_a_person_in_a_readable_language(knowledge, text, hint):
    turn = conversation.not_understood(knowledge, context(text, None, hint=hint))
    reply = turn.replies[0]
    assert reply["text"] == say("language_unsupported", reply["language"])
    payloads = [b["payload"] for b in reply["buttons"]]
    assert "/request_human" in payloads and sum(p.startswith("/choose_language") for p in payloads) == len(LANGUAGE_CODES)


def test_outside_telegram_a_person_is_the_mediation_service_contact(knowledge):
    turn = conversation.request_human(knowledge, context("persona", "es"))
    office = answers.mediation_office(knowledge)
    assert office is not None and office.name in turn.replies[0]["text"]
    assert turn.replies[0]["answer"] == "handoff" and turn.replies[0]["language"] == "es"


def test_greeting_offers_every_topic_as_a_button(knowledge):
    turn = conversation.small_talk(knowledge, context("hola", "ca"), "greet")
    payloads = [b["payload"] for b in turn.replies[0]["buttons"]]
    assert {f"/{topic.key}" for topic in answers.topics(knowledge)} <= set(payloads)


def test_a_romanized_writer_is_answered_in_the_script_and_offered_another_language_once(knowledge):
    written = context("ishchu rabotu", "ru", hint="es")
    assert written.detection.romanized
    turn = conversation.offer_other_language(written, conversation.answer_topic(knowledge, written, "employment"))
    offer = turn.replies[-1]
    assert offer["text"] == say("other_script_offer", "ru", language_name="Русский") and offer["language"] == "ru"
    offered = [payload_entities(b).get("language") for b in offer["buttons"]]
    assert offered == ["es", "en", None]  # the phone's language, English, then the whole menu
    assert turn.slots["other_language_offered"] is True
    again = dataclasses.replace(written, other_language_offered=True)
    assert conversation.offer_other_language(again, conversation.answer_topic(knowledge, again, "employment")).replies[-1]["text"] != offer["text"]


def test_no_offer_for_text_in_its_own_script(knowledge):
    native = context("ищу работу", "ru")
    turn = conversation.answer_topic(knowledge, native, "employment")
    assert conversation.offer_other_language(native, turn) is turn
