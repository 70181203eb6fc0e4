"""Detecting the language of one message.

The script narrows the candidates (Greek is Greek; Cyrillic is Ukrainian or
Russian; Arabic letters are Arabic or Urdu; Latin letters one of the rest).
Bulgarian, an unsupported language written in Russian's letters, is
modelled beside Russian and Ukrainian so that its text comes out und.
Among candidates, four signals add up as log-probabilities, each weighted:
lingua's character models, langdetect's, how frequent each word is in each
language (wordfreq), and letters only one language of a pair writes. The
Telegram interface language adds a small prior. The weights were chosen on
texts unrelated to any test set (translations shipped with Debian packages).
"""
from __future__ import annotations

import ctypes
import gc
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.language import romanized
from bot.language.detection import Detection
from bot.language.ngrams import LangdetectModel, LinguaModel, log_softmax
from bot.language.scripts import (
    NO_LETTERS,
    OTHER,
    ScriptProfile,
    distinctive_letter_counts,
    keep_script,
    in_modelled_alphabet,
    script_profile,
)
from bot.language.words import WordModel, tokenize
from bot.languages import SUPPORTED_LANGUAGES, UNDETERMINED, is_supported, normalise_code
from bot.settings import var_dir

# A long message says all it can in its first lines; the cut keeps detection fast.
MAX_CHARACTERS = 400
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\S+|[@#]\w+")


def _candidates_by_script() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for language in SUPPORTED_LANGUAGES:
        grouped.setdefault(language.script, []).append(language.code)
    return {script: tuple(codes) for script, codes in grouped.items()}


CANDIDATES_BY_SCRIPT = _candidates_by_script()

# Unsupported languages written in a supported script, modelled beside the
# supported ones so that their text comes out und instead of as its nearest
# supported neighbour: Bulgarian shares Russian's letters and many of its words.
# (Persian was modelled here until it became a supported language.)
UNSUPPORTED_NEIGHBOURS: dict[str, tuple[str, ...]] = {"Cyrillic": ("bg",)}
MODELLED_BY_SCRIPT = {
    script: codes + UNSUPPORTED_NEIGHBOURS.get(script, ()) for script, codes in CANDIDATES_BY_SCRIPT.items()
}
SCRIPT_OF_MODELLED = {code: script for script, codes in MODELLED_BY_SCRIPT.items() for code in codes}

# Which scripts get lingua's large models; see LinguaModel. Arabic and Urdu
# are told apart well enough by their letters and words (on the benchmark,
# half a point fewer single words right) to spare the 50 MB their large
# models add, which would take loading the detector over 400 MB at its peak.
HIGH_ACCURACY_SCRIPTS = frozenset({"Latin", "Cyrillic"})

# Weights of the signals, in nats per unit of each. They were chosen on texts
# unrelated to any test set, and with them the probabilities come out
# calibrated (a 0.7 is right about 70 % of the time), so no temperature.
LINGUA_WEIGHT = 0.5
LANGDETECT_WEIGHT = 0.05
WORDS_WEIGHT = 1.0  # per natural log of a word's frequency
LETTER_WEIGHT = 3.0  # per distinctive letter
# In favour of the interface language: enough to settle a single word shared
# by two languages ("hola" in Spanish or Catalan), far from enough to outvote
# a couple of words that are clearly in another language.
HINT_PRIOR = 4.0
# Against each unsupported neighbour, in nats: people write to this service in
# its languages far more often than in others, so a neighbour must show itself
# in more than a word both languages share (Urdu took many words from Persian).
NEIGHBOUR_PRIOR = -3.0
PRIORS_BY_CANDIDATES = {
    codes: np.array([0.0 if is_supported(code) else NEIGHBOUR_PRIOR for code in codes]) for codes in MODELLED_BY_SCRIPT.values()
}
# A best guess under this is right less than one time in four: say und.
ABSTAIN_BELOW = 0.25
# Text of a few words that are, on average, rarer than one in three million
# words of the best candidate (German, Wolof or Tagalog among the Latin
# candidates) is not in that language. Real text has common words among its
# words; foreign text only finds the odd loanword in a supported list.
UNEXPLAINED_MIN_WORDS = 3
UNEXPLAINED_MEAN_CB = -650


@dataclass(frozen=True)
class Evidence:
    """Each signal's log-probabilities over the candidates of one message."""

    candidates: tuple[str, ...]
    lingua: np.ndarray
    langdetect: np.ndarray
    word_centibels: np.ndarray  # per word (rows) and candidate (columns)
    letters: np.ndarray  # distinctive letters per candidate

    @property
    def words(self) -> np.ndarray:
        return self.word_centibels.sum(axis=0) * math.log(10) / 100

    def explained_by(self, column: int) -> bool:
        """Whether the message's words are words of that candidate, as far as a few words can tell."""
        if len(self.word_centibels) < UNEXPLAINED_MIN_WORDS:
            return True
        return bool(self.word_centibels[:, column].mean() >= UNEXPLAINED_MEAN_CB)


class _Models:
    """Every model the detector reads, loaded together once per process."""

    def __init__(self) -> None:
        # The word tables first: building them (once; then they come from the
        # cache) passes through far more memory than they keep, which is
        # returned before the other models come in.
        self.words = WordModel(SCRIPT_OF_MODELLED, _word_cache_dir())
        _return_freed_memory()
        self.lingua: dict[str, LinguaModel] = {}
        for script, codes in MODELLED_BY_SCRIPT.items():
            if len(codes) > 1:
                self.lingua[script] = LinguaModel(codes, high_accuracy=script in HIGH_ACCURACY_SCRIPTS)
                _return_freed_memory()  # lingua passes each model's files through memory it then frees
        self.langdetect = LangdetectModel(tuple(SCRIPT_OF_MODELLED))
        _return_freed_memory()
        romanized.lexicon()


def _word_cache_dir() -> Path | None:
    try:
        return var_dir() / "cache"
    except OSError:  # a read-only installation: each process builds the tables
        return None


def _return_freed_memory() -> None:
    """Give the operating system back the heap the word lists passed through.

    Building the word tables creates and drops millions of strings; glibc
    keeps that memory in the process unless asked, which would count against
    the Rasa server as if the detector still used it.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim


_models: _Models | None = None
_loading = threading.Lock()


def models() -> _Models:
    global _models
    if _models is None:
        with _loading:
            if _models is None:
                _models = _Models()
    return _models


def warm_up() -> None:
    """Load every model now (a few seconds), so the first message does not wait for them."""
    models()


def without_noise(text: str) -> str:
    """The start of the text without links, addresses, mentions and hashtags, which are in no language.

    Compatibility forms become plain letters: the bold or script letters of
    social media ("𝐚𝐲𝐮𝐝𝐚"), full-width Latin, Arabic presentation forms.
    """
    return _NOISE.sub(" ", unicodedata.normalize("NFKC", (text or "")[:MAX_CHARACTERS]))


def gather_evidence(letters: str, script: str) -> Evidence:
    loaded = models()
    candidates = MODELLED_BY_SCRIPT[script]
    columns = [loaded.langdetect.codes.index(code) for code in candidates]
    return Evidence(
        candidates=candidates,
        lingua=loaded.lingua[script].log_probabilities(letters),
        langdetect=log_softmax(loaded.langdetect.log_likelihoods(letters)[columns]),
        word_centibels=loaded.words.centibels(tokenize(letters), candidates),
        letters=np.array(distinctive_letter_counts(letters, candidates), dtype=float),
    )


def combine(evidence: Evidence, hint: str | None) -> np.ndarray:
    """Probabilities over the candidates, unsupported neighbours included."""
    logits = (
        LINGUA_WEIGHT * evidence.lingua
        + LANGDETECT_WEIGHT * evidence.langdetect
        + WORDS_WEIGHT * evidence.words
        + LETTER_WEIGHT * evidence.letters
    )
    logits = logits + PRIORS_BY_CANDIDATES[evidence.candidates]
    if hint in evidence.candidates:
        logits[evidence.candidates.index(hint)] += HINT_PRIOR
    return np.exp(log_softmax(logits))


def detect(text: str, hint: str | None = None) -> Detection:
    """The language of a message; `hint` is the app's interface language, a prior that only breaks near-ties."""
    cleaned = without_noise(text)
    profile = script_profile(cleaned)
    if profile.script in (NO_LETTERS, OTHER):
        return Detection(
            UNDETERMINED, 0.0, profile.script, {}, profile.unicode_script, len(tokenize(cleaned)), unsupported=profile.script == OTHER
        )
    candidates = CANDIDATES_BY_SCRIPT[profile.script]
    letters = keep_script(cleaned, profile.unicode_script)
    if len(candidates) == 1:
        return _only_candidate(candidates[0], profile, len(tokenize(letters)))
    evidence = gather_evidence(letters, profile.script)
    probabilities = combine(evidence, normalise_code(hint))
    best = int(np.argmax(probabilities))
    confidence = float(probabilities[best])
    if profile.script == "Latin":
        written = romanized.guess(cleaned, list(evidence.word_centibels[:, best]), normalise_code(hint))
        if written is not None:
            return Detection(
                language=written.language,
                confidence=written.confidence,
                script=profile.script,
                scores={written.language: written.confidence, evidence.candidates[best]: 1 - written.confidence},
                unicode_script=profile.unicode_script,
                words=written.words,
            )
    explained = evidence.explained_by(best) or in_modelled_alphabet(letters, evidence.candidates[best])
    unsupported = not explained or (confidence >= ABSTAIN_BELOW and not is_supported(evidence.candidates[best]))
    sure = confidence >= ABSTAIN_BELOW and not unsupported
    return Detection(
        language=evidence.candidates[best] if sure else UNDETERMINED,
        confidence=confidence,
        script=profile.script,
        # The supported candidates' share; an unsupported neighbour has the rest.
        scores={code: float(p) for code, p in zip(evidence.candidates, probabilities) if is_supported(code)},
        unicode_script=profile.unicode_script,
        words=len(evidence.word_centibels),
        unsupported=unsupported,
    )


def _only_candidate(code: str, profile: ScriptProfile, words: int) -> Detection:
    # Only Greek is written in Greek letters; a lone letter may still be a
    # symbol ("5 μm"), so confidence grows with the letters.
    confidence = 1 - 0.5**profile.letters
    return Detection(code, confidence, profile.script, {code: 1.0}, profile.unicode_script, words)
