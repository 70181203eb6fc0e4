"""Answering from the knowledge base: topics, details, where to go, and search."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import knowledge
from actions.tracking import intent_of, context_from, entity, send
from bot import conversation


class ActionAnswerTopic(Action):
    """Every topic intent is named after its topic key; the follow-ups name it in the payload."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        intent = intent_of(tracker)
        context = context_from(tracker)
        with knowledge() as session:
            if intent == "ask_details":
                turn = conversation.answer_details(session, context, entity(tracker, "topic"))
            elif intent == "ask_location":
                turn = conversation.answer_location(session, context, entity(tracker, "topic"))
            elif intent == "inform_municipality":
                turn = conversation.inform_municipality(session, context)
            else:
                turn = conversation.answer_topic(session, context, intent)
            return send(turn, dispatcher, context)


class ActionFallback(Action):
    """The NLU is unsure, or no rule applies: search, suggest, then offer a person."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        with knowledge() as session:
            context = context_from(tracker)
            return send(conversation.not_understood(session, context), dispatcher, context)
