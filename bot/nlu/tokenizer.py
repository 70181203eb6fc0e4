"""Rasa NLU component: tokenises each message with spaCy's blank pipeline for its language.

Blank pipelines are rule-based and ship with spaCy, so nothing is downloaded;
they know each language's elisions and clitics ("l'oficina" -> "l'", "oficina"
in Catalan, French, Italian). Messages whose language is undetermined use the
multi-language tokenizer.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Text

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.languages import is_supported
from bot.nlu.language_detector import LANGUAGE

MULTI_LANGUAGE = "xx"


@lru_cache(maxsize=None)
def blank_pipeline(language: str) -> spacy.language.Language:
    return spacy.blank(language if is_supported(language) else MULTI_LANGUAGE)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class LanguageAwareTokenizer(Tokenizer):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageAwareTokenizer":
        return cls(config)

    @classmethod
    def required_packages(cls) -> List[Text]:
        return ["spacy"]

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        detection = message.get(LANGUAGE) or {}
        language = detection.get("language") if isinstance(detection, dict) else None
        doc = blank_pipeline(language or MULTI_LANGUAGE).make_doc(message.get(attribute) or "")
        tokens = [Token(token.text, token.idx) for token in doc if not token.is_space and not token.is_punct]
        return self._apply_token_pattern(tokens)
