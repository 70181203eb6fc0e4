"""Answering from the knowledge base: topics, details, where to go, and search."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import from_knowledge
from actions.tracking import intent_of, context_from, entity, send
from bot import conversation


class ActionAnswerTopic(Action):
    """Every topic intent is named after its topic key; the follow-ups name it in the payload."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        intent = intent_of(tracker)
        context = context_from(tracker)
        if intent == "ask_details":
            turn = await from_knowledge(conversation.answer_details, context, entity(tracker, "topic"))
        elif intent == "ask_location":
            turn = await from_knowledge(conversation.answer_location, context, entity(tracker, "topic"))
        elif intent == "inform_municipality":
            turn = await from_knowledge(conversation.inform_municipality, context)
        else:
            turn = await from_knowledge(conversation.answer_topic, context, intent)
        return send(turn, dispatcher, context)


class ActionFallback(Action):
    """The NLU is unsure, or no rule applies: search, suggest, then offer a person."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        context = context_from(tracker)
        return send(await from_knowledge(conversation.not_understood, context), dispatcher, context)
