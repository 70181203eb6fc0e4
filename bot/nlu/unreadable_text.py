"""Rasa NLU component: never classifies text the assistant cannot read.

A message with no letters (emoji, digits), in a script no supported language
uses (Ethiopic, Tifinagh, Han...) or in another unsupported language (Persian,
Bulgarian, German...) would otherwise get whatever intent the classifier's
bias favours, or the intent of a word it shares with a supported language.
This turns it into ``nlu_fallback`` so the fallback action can answer
honestly: a language menu and a person.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.language.scripts import NO_LETTERS, OTHER
from bot.nlu.language_detector import LANGUAGE

UNREADABLE_SCRIPTS = (NO_LETTERS, OTHER)


def is_unreadable(message: Message) -> bool:
    detection = message.get(LANGUAGE) or {}
    return isinstance(detection, dict) and (detection.get("script") in UNREADABLE_SCRIPTS or detection.get("unsupported") is True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class UnreadableTextFallback(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "UnreadableTextFallback":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not is_unreadable(message):
                continue
            fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [fallback] + [
                entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME
            ]
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
