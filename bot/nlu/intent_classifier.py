"""Rasa NLU component: Rasa's logistic-regression intent classifier, safe on empty text.

The stock classifier raises on a message without features (an empty or
blank message leaves the featurizers nothing to count). Such a message has
no intent to find: it is marked ``nlu_fallback``, and the fallback action
asks the person to write their question in words.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


def has_features(message: Message) -> bool:
    sparse = message.get_sparse_features(attribute=TEXT)[1]
    return sparse is not None and sparse.features.shape[-1] > 0


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TextIntentClassifier(LogisticRegressionClassifier):
    def process(self, messages: List[Message]) -> List[Message]:
        featured = [message for message in messages if has_features(message)]
        if featured:
            super().process(featured)
        nothing_to_read = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
        for message in messages:
            if not has_features(message):
                message.set(INTENT, nothing_to_read, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [nothing_to_read], add_to_output=True)
        return messages
