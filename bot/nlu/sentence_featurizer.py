"""Rasa NLU component: the meaning of the whole message as dense features.

Word and character counts know the phrasing the assistant was trained on;
"we sleep in the car with the kids" shares no word with "housing". The
multilingual sentence embedding (`bot.embeddings`) puts such a message near
the training examples that mean the same, in any language, and the intent
classifier reads it beside the counts (Rasa's logistic regression stacks the
sentence features of every featurizer).

`weight` scales the unit-length vector against the counts: the classifier's
L2 penalty is the same for every column, so the scale says how much meaning
may count against exact words.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import embeddings

BATCH = 64


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceMeaningFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "weight": 1.0}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        weight = config.get("weight", 1.0)
        if not isinstance(weight, (int, float)) or weight <= 0:
            raise ValueError(f"SentenceMeaningFeaturizer: weight must be a positive number, not {weight!r}")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceMeaningFeaturizer":
        embeddings.warm_up()
        return cls({**cls.get_default_config(), **config}, execution_context.node_name)

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.weight = float(self._config["weight"])

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [message for message in messages if isinstance(message.get(TEXT), str) and message.get(TEXT).strip()]
        for start in range(0, len(with_text), BATCH):
            batch = with_text[start : start + BATCH]
            vectors = embeddings.queries([message.get(TEXT) for message in batch]) * self.weight
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(sequence=None, sentence=vector.reshape(1, -1).astype(np.float32), attribute=TEXT, message=message)
        return messages
