"""Character n-gram evidence: lingua's models and langdetect's profiles, restricted to the supported languages.

Both libraries ship their models in their wheels. Each gives, for a text and
the candidate languages of its script, a log-probability per language.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.utils.lang_profile import LangProfile
from langdetect.utils.ngram import NGram
from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

# lingua says 0 for a language its rules exclude (a letter it thinks the
# language lacks); a floor keeps one odd letter from vetoing a language.
LINGUA_FLOOR = 1e-4


class LinguaModel:
    """One lingua detector per script, each knowing only that script's candidates.

    lingua's high-accuracy models (1- to 5-grams) are large: about 180 MB for
    the seven Latin languages, 40 MB for Ukrainian and Russian, 60 MB for
    Arabic and Urdu; its low-accuracy mode (trigrams only) needs a few MB.
    """

    def __init__(self, codes: tuple[str, ...], high_accuracy: bool):
        self.codes = codes
        languages = [Language.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in codes]
        builder = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
        if not high_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector = builder.build()
        self._column = {language: index for index, language in enumerate(languages)}

    def log_probabilities(self, text: str) -> np.ndarray:
        probabilities = np.full(len(self.codes), 1.0 / len(self.codes))
        values = self._detector.compute_language_confidence_values(text)
        if any(value.value for value in values):
            for value in values:
                probabilities[self._column[value.language]] = value.value
        return np.log(np.maximum(probabilities, LINGUA_FLOOR))


class LangdetectModel:
    """langdetect's naive Bayes over 1- to 3-grams, computed exactly instead of sampled.

    langdetect's own detect() samples n-grams at random (so needs a seed) and
    drops languages under 10 %; summing every n-gram's log-probability gives
    the same model's full, deterministic posterior, and is faster.
    """

    def __init__(self, codes: tuple[str, ...]):
        self.codes = codes
        smoothing = Detector.ALPHA_DEFAULT / Detector.BASE_FREQ
        table: dict[str, np.ndarray] = {}
        for index, code in enumerate(codes):
            profile = LangProfile(**json.loads(Path(PROFILES_DIRECTORY, code).read_text(encoding="utf-8")))
            for gram, count in profile.freq.items():
                if 1 <= len(gram) <= NGram.N_GRAM:
                    row = table.setdefault(gram, np.zeros(len(codes)))
                    row[index] = count / profile.n_words[len(gram) - 1]
        self._rows = {gram: index for index, gram in enumerate(table)}
        self._log_probabilities = np.log(np.array(list(table.values())) + smoothing) if table else np.zeros((0, len(codes)))

    def rows(self, text: str) -> list[int]:
        """The profile rows of the text's 1- to 3-grams, as langdetect reads them.

        langdetect's n-grams never span words: each word is read with a space
        on either side (" ab", "abc", "bc "), its characters normalised by
        langdetect's own rules (Romanian ș as ş, punctuation as space...).
        """
        normalised = NGram.normalize_vi(text.lower()).translate(_LANGDETECT_CHARACTERS)
        rows = []
        for word in normalised.split():
            padded = f" {word} "
            grams = [*word, *(padded[i : i + 2] for i in range(len(padded) - 1))]
            grams += (padded[i : i + 3] for i in range(len(padded) - 2))
            rows += (self._rows[gram] for gram in grams if gram in self._rows)
        return rows

    def log_likelihoods(self, text: str) -> np.ndarray:
        rows = self.rows(text)
        if not rows:
            return np.zeros(len(self.codes))
        return self._log_probabilities[rows].sum(axis=0)


class _LangdetectCharacters(dict):
    """A str.translate table applying langdetect's character normalisation, filled as characters come."""

    def __missing__(self, code_point: int) -> str:
        self[code_point] = NGram.normalize(chr(code_point))
        return self[code_point]


_LANGDETECT_CHARACTERS = _LangdetectCharacters()


def log_softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max()
    return shifted - math.log(np.exp(shifted).sum())
