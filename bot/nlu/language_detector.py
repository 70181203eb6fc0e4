"""Rasa NLU component: detects the language of each message.

It puts ``bot.language.Detection.as_dict()`` under ``language`` in the parse
result, using the Telegram ``language_code`` the channel sends in the message
metadata as a prior. The conversation's own language lives in a slot, where
the tracker is: ``actions.language`` resolves it from this detection.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language import detect, warm_up

LANGUAGE = "language"
METADATA = "metadata"
HINT_KEY = "language_code"


def hint_from(message: Message) -> Optional[str]:
    metadata = message.get(METADATA) or {}
    hint = metadata.get(HINT_KEY) if isinstance(metadata, dict) else None
    return hint if isinstance(hint, str) else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LanguageDetector(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        # Loading the detector's models takes seconds: do it while Rasa starts, not on the first message.
        warm_up()
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples get the same annotation, so the tokenizer splits
        # them the way it will split a live message in that language.
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text is None:
                continue
            detection = detect(text, hint=hint_from(message))
            message.set(LANGUAGE, detection.as_dict(), add_to_output=True)
        return messages
