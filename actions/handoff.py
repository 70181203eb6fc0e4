"""Talking to a person, and the yes/no answers to the bot's offers of one."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge import from_knowledge
from actions.tracking import context_from, send
from bot import conversation


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        context = context_from(tracker)
        return send(await from_knowledge(conversation.request_human, context), dispatcher, context)


class ActionAffirm(Action):
    def name(self) -> Text:
        return "action_affirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        context = context_from(tracker)
        return send(await from_knowledge(conversation.affirm, context), dispatcher, context)


class ActionDeny(Action):
    def name(self) -> Text:
        return "action_deny"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        context = context_from(tracker)
        return send(await from_knowledge(conversation.deny, context), dispatcher, context)
