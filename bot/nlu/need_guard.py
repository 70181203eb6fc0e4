"""Rasa NLU component: an urgent need is never read as small talk.

"мне нечего есть" ("I have nothing to eat") shares its letters with "нет"
("no"): the classifier may put `deny` first and the need second. Answering a
need as "no", "goodbye" or "thanks" brushes off a person who may be hungry,
homeless, ill, in danger, or whose child has no school; answering a short
"no" with an article is a small mistake they can undo. So when a message of
a few words comes out as small talk while a need is a real candidate, the
need goes first.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.needs import NEED_INTENTS, SMALL_TALK_INTENTS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NeedsBeforeSmallTalk(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # A need this likely is a real reading of the message; "no thanks" or
        # "ok bye" (two words) say too little to be one.
        return {"min_need_confidence": 0.2, "min_words": 3}

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "NeedsBeforeSmallTalk":
        return cls({**cls.get_default_config(), **config})

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.min_need_confidence = float(config["min_need_confidence"])
        self.min_words = int(config["min_words"])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent, ranking = message.get(INTENT) or {}, message.get(INTENT_RANKING_KEY) or []
            if intent.get(INTENT_NAME_KEY) not in SMALL_TALK_INTENTS or len((message.get(TEXT) or "").split()) < self.min_words:
                continue
            needs = [entry for entry in ranking if entry.get(INTENT_NAME_KEY) in NEED_INTENTS]
            if not needs or needs[0][PREDICTED_CONFIDENCE_KEY] < self.min_need_confidence:
                continue
            # The need and the small talk swap places and confidences, so that the
            # ranking stays in order for the FallbackClassifier that reads it next.
            need, small_talk = needs[0], ranking[0]
            promoted = {INTENT_NAME_KEY: need[INTENT_NAME_KEY], PREDICTED_CONFIDENCE_KEY: small_talk[PREDICTED_CONFIDENCE_KEY]}
            demoted = {INTENT_NAME_KEY: small_talk[INTENT_NAME_KEY], PREDICTED_CONFIDENCE_KEY: need[PREDICTED_CONFIDENCE_KEY]}
            rest = [entry for entry in ranking[1:] if entry is not need]
            message.set(INTENT, dict(promoted), add_to_output=True)
            message.set(INTENT_RANKING_KEY, sorted([promoted, demoted, *rest], key=lambda e: -e[PREDICTED_CONFIDENCE_KEY]), add_to_output=True)
        return messages
