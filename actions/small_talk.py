"""Greetings, thanks, goodbyes, "are you a bot?" and questions out of scope."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import from_knowledge
from actions.tracking import intent_of, context_from, send
from bot import conversation


class ActionSmallTalk(Action):
    def name(self) -> Text:
        return "action_small_talk"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        intent = intent_of(tracker)
        if intent not in conversation.SMALL_TALK:
            intent = "out_of_scope"
        context = context_from(tracker)
        return send(await from_knowledge(conversation.small_talk, context, intent), dispatcher, context)
