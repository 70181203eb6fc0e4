"""Keeping the conversation's language, and the slots read from each message."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker, ValidationAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import from_knowledge
from actions.tracking import intent_of, LANGUAGE_CHOSEN_NOW, context_from, entity, latest_detection, send
from bot import conversation
from bot.knowledge import answers
from bot.language import resolve_conversation_language
from bot.languages import is_supported, named_language


def explicit_choice(tracker: Tracker) -> str | None:
    """The language the person picks in this message: a menu button or its name."""
    if intent_of(tracker) != "choose_language":
        return None
    picked = entity(tracker, "language") or named_language(tracker.latest_message.get("text") or "")
    return picked if is_supported(picked) else None


class ValidateSlotMappings(ValidationAction):
    """Runs after every message, before the next action is predicted."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def extract_language(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        picked = explicit_choice(tracker)
        chosen = picked or (tracker.get_slot("language") if tracker.get_slot("language_chosen") else None)
        language = resolve_conversation_language(latest_detection(tracker), tracker.get_slot("language"), chosen)
        return {
            "language": language,
            "language_chosen": bool(picked) or bool(tracker.get_slot("language_chosen")),
            LANGUAGE_CHOSEN_NOW: bool(picked),
        }

    async def extract_municipality(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        named = entity(tracker, "municipality")
        if named:
            return {"municipality": named}
        intent = intent_of(tracker)
        text = tracker.latest_message.get("text") or ""

        def named_town(session) -> tuple[bool, str | None]:
            """(whether a town is expected here, the town the text names)."""
            # Only where a town is expected: telling where one lives, or asking
            # about a topic ("padron en vic"). Elsewhere a short alias is just a
            # word: "فيك" is Vic, and also "in you" in "بارك الله فيك".
            if intent != "inform_municipality" and answers.topic(session, intent) is None:
                return False, None
            return True, None if text.startswith("/") else answers.match_municipality(session, text)

        expected, found = await from_knowledge(named_town)
        if not expected:
            return {}
        if found:
            return {"municipality": found}
        # "I live in <a town we do not know>": the old town is no longer true.
        if intent == "inform_municipality":
            return {"municipality": None}
        return {}

    async def extract_topic(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        topic = entity(tracker, "topic")
        return {"topic": topic} if topic else {}


class ActionChooseLanguage(Action):
    def name(self) -> Text:
        return "action_choose_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        context = context_from(tracker)
        return send(await from_knowledge(conversation.choose_language, context), dispatcher, context)
