"""Every sentence Acollida says, in every supported language.

The catalogue is ``bot/texts/<code>.yml``; ``say`` is the one way to get a
sentence, so no user-visible text lives in code.
"""
from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

import yaml

from bot.languages import LANGUAGE_CODES, LINGUA_FRANCA

TEXTS_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    path = TEXTS_DIR / f"{language}.yml"
    with path.open(encoding="utf-8") as handle:
        return {str(key): str(value) for key, value in (yaml.safe_load(handle) or {}).items()}


def say(key: str, language: str, /, **values: object) -> str:
    """The sentence ``key`` in ``language`` (English if the language is not supported)."""
    texts = catalogue(language if language in LANGUAGE_CODES else LINGUA_FRANCA)
    return texts[key].format(**values)


def placeholders(sentence: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(sentence) if name}
