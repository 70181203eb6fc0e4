"""Languages written in Latin letters when the phone has no keyboard for them.

Roman Urdu ("mujhe kaam chahiye"), Arabic with digits for the letters Latin
lacks ("3andi", "7abibi", "5obz"), Greeklish ("psaxno douleia") and Russian or
Ukrainian in Latin letters ("ishchu rabotu", "shukayu robotu") are detected
as their language, with the script recorded as Latin.

The evidence is whole words. Each language has a lexicon of romanized words,
most frequent first, in `romanized/<code>.txt` (written by hand: how people
type, variants included); Greek, Russian and Ukrainian also have their
wordfreq lists transliterated in the ways people type them. A message is a
romanized language when that language's words explain it better, by a clear
margin, than the best Latin-script language does with its own words: Spanish,
Italian or Romanian text, whose words are all frequent in its own list, stays
what it is.

Every word is reduced to a skeleton before lookup (doubled letters single, a
few letters that spellings swap made one), so that "chahiye", "chahiyee" and
"chahye" meet without listing each.
"""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from wordfreq import available_languages, read_cBpack

from bot.language.words import strip_accents
from bot.languages import SUPPORTED_LANGUAGES

LEXICONS = Path(__file__).resolve().parent / "romanized"


# Digits stand for letters in Arabizi (3 = ع, 7 = ح, 5 = خ, 9 = ق, 2 = ء) and
# in Greeklish (8 = θ, 3 = ξ): a word keeps them.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_ROMANIZED_WORD = re.compile(r"[a-z0-9']*[a-z][a-z0-9']*")
_DOUBLED = re.compile(r"(.)\1+")

# A hand-written lexicon lists words, not counts: the n-th word gets the
# frequency a word of that rank has in a language (Zipf's law, the first at
# about 4 %), so ranks and wordfreq's frequencies share one scale.
_FIRST_WORD_CB = -140
# How many words of the wordfreq list of each language are transliterated.
TRANSLITERATED_WORDS = 6000
# A word the romanized lexicon lacks: as rare as a word a Latin-script list lacks.
UNLISTED_CB = -850
# Arabic and Urdu written in Latin letters leave their short vowels to the
# writer ("3andi", "3ndi", "endi"; "mujhe", "mjhe"): a word whose vowels differ
# from a listed word's counts as that word, at this penalty.
OTHER_VOWELS_CB = 150
VOWEL_FREE_LANGUAGES = frozenset({"ar", "ur"})
_VOWELS = re.compile(r"(?<=.)[aeiouy]")

# The romanized language must explain the text by this much more than the best
# Latin-script language, in nats: one shared short word ("me", "to", "na") is
# not enough, two or three clear words are.
MARGIN = 4.0
# In favour of the language the phone is set to (its interface language), when
# that is the romanized one: a Roman Urdu writer's phone is often set to Urdu.
HINT_PRIOR = 3.0
# Enough words the lexicon knows: a single unknown word says nothing.
MIN_KNOWN_SHARE = 0.5


def _skeleton(word: str, code: str) -> str:
    word = word.replace("'", "")
    if code in ("ru", "uk"):
        word = word.replace("shch", "sh").replace("sch", "sh").replace("kh", "h").replace("x", "h").replace("j", "y").replace("w", "v")
        word = word.replace("ts", "c").replace("tz", "c").replace("ie", "ye").replace("iu", "yu").replace("ia", "ya")
    elif code == "el":
        word = word.replace("8", "th").replace("3", "ks").replace("x", "h").replace("ch", "h").replace("w", "o")
        word = word.replace("ou", "u").replace("ei", "i").replace("oi", "i").replace("y", "i").replace("ai", "e")
    elif code == "ur":
        word = word.replace("ay", "e").replace("ee", "i").replace("oo", "u").replace("w", "v").replace("y", "i")
    elif code == "ar":
        word = word.replace("ou", "u").replace("ee", "i").replace("oo", "u").replace("sh", "ch").replace("kh", "5").replace("gh", "8")
    return _DOUBLED.sub(r"\1", word)


# Transliteration schemes: each maps a letter (or a pair) to how it is typed.
# Several schemes per language because people follow different habits; every
# scheme's spelling goes into the lexicon.
_RU_BASE = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "y",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
    "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
_UK_BASE = {
    **{k: v for k, v in _RU_BASE.items() if k not in "ёъыэ"},
    "г": "h", "ґ": "g", "е": "e", "є": "ye", "и": "y", "і": "i", "ї": "yi", "й": "y", "щ": "shch",
}
_EL_BASE = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i", "κ": "k", "λ": "l",
    "μ": "m", "ν": "n", "ξ": "ks", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f",
    "χ": "x", "ψ": "ps", "ω": "o",
}
_EL_PAIRS = {"ου": "ou", "μπ": "mp", "ντ": "nt", "γκ": "gk", "γγ": "gg", "αυ": "av", "ευ": "ev", "αι": "ai", "ει": "ei", "οι": "oi"}
SCHEMES: dict[str, tuple[dict[str, str], ...]] = {
    "ru": (_RU_BASE, {**_RU_BASE, "ж": "j", "х": "h", "ы": "i", "й": "i", "я": "ia", "ю": "iu", "ц": "c"},
           {**_RU_BASE, "х": "x", "щ": "sch", "я": "ja", "ю": "ju", "й": "j", "ь": "'"}),
    "uk": (_UK_BASE, {**_UK_BASE, "ж": "j", "х": "h", "и": "i", "г": "g", "я": "ia", "ю": "iu", "є": "ie", "ї": "i", "й": "i"},
           {**_UK_BASE, "х": "x", "щ": "sch", "я": "ja", "ю": "ju", "є": "je", "ї": "ji", "й": "j"}),
    "el": ({**_EL_PAIRS, **_EL_BASE}, {**_EL_BASE, "ου": "u", "μπ": "b", "ντ": "d", "θ": "8", "ξ": "3", "ω": "w", "η": "h", "χ": "ch"},
           {**_EL_BASE, "ου": "ou", "αι": "e", "ει": "i", "οι": "i", "υ": "i", "χ": "h", "β": "b", "δ": "d"}),
}
# The supported languages read when romanized: those with a script of their own
# and a lexicon or a transliteration scheme.
ROMANIZED_LANGUAGES: tuple[str, ...] = tuple(
    language.code
    for language in SUPPORTED_LANGUAGES
    if language.script != "Latin" and ((LEXICONS / f"{language.code}.txt").is_file() or language.code in SCHEMES)
)


def transliterate(word: str, scheme: dict[str, str]) -> str:
    out, i = [], 0
    word = word.casefold()
    while i < len(word):
        pair = word[i : i + 2]
        if len(pair) == 2 and pair in scheme:
            out.append(scheme[pair])
            i += 2
            continue
        plain = strip_accents(word[i])
        out.append(scheme.get(plain, plain if plain.isascii() else ""))
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[str] | None:
    """The words of a text that could be romanized; None when it has accented letters.

    Romanized writing is plain ASCII: a phone that types "válidas", "chômage"
    or "informații" has the keyboard of a Latin-script language, and is used for
    it. Single letters say nothing.
    """
    words = _WORD.findall(text.casefold())
    if any(not word.isascii() for word in words):
        return None
    return [word for word in words if len(word) > 1 and _ROMANIZED_WORD.fullmatch(word)]


def _rank_centibels(rank: int) -> float:
    return _FIRST_WORD_CB - 100 * math.log10(rank + 1)


def _consonants(key: str) -> str:
    """A skeleton without its vowels after the first letter: what Arabizi and Roman Urdu spell alike."""
    return _DOUBLED.sub(r"\1", _VOWELS.sub("", key))


class RomanizedLexicon:
    """Skeleton of a word -> its frequency in centibels, per romanized language."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, float]] = {}
        self.consonant_tables: dict[str, dict[str, float]] = {}
        for code in ROMANIZED_LANGUAGES:
            table: dict[str, float] = {}
            path = LEXICONS / f"{code}.txt"
            for rank, word in enumerate(_listed_words(path) if path.is_file() else []):
                for token in tokenize(word) or ():
                    key = _skeleton(token, code)
                    table[key] = max(table.get(key, -10_000), _rank_centibels(rank))
            if code in SCHEMES:  # wordfreq's own list of the language, typed in Latin letters
                for word, centibels in _most_frequent(code, TRANSLITERATED_WORDS):
                    for scheme in SCHEMES[code]:
                        key = _skeleton(transliterate(word, scheme), code)
                        if key and key.isascii():
                            table[key] = max(table.get(key, -10_000), centibels)
            self.tables[code] = table
            if code in VOWEL_FREE_LANGUAGES:
                consonants: dict[str, float] = {}
                for key, centibels in table.items():
                    short = _consonants(key)
                    if len(short) >= 2:  # "m", "k": too little left to mean a word
                        consonants[short] = max(consonants.get(short, -10_000), centibels - OTHER_VOWELS_CB)
                self.consonant_tables[code] = consonants

    def centibels(self, words: list[str], code: str) -> np.ndarray:
        table, consonants = self.tables[code], self.consonant_tables.get(code, {})
        values = []
        for word in words:
            key = _skeleton(word, code)
            found = table.get(key)
            if found is None and consonants:
                short = _consonants(key)
                found = consonants.get(short) if len(short) >= 2 else None
            values.append(UNLISTED_CB if found is None else found)
        return np.array(values, dtype=float)


def _most_frequent(language: str, count: int) -> list[tuple[str, float]]:
    """The language's most frequent words with their centibels, read from wordfreq's small list.

    The small list holds every word this needs; reading it directly, rather
    than through wordfreq's cached functions, keeps none of it in memory after.
    """
    bins = read_cBpack(available_languages("small")[language])
    words: list[tuple[str, float]] = []
    for index, listed in enumerate(bins):  # bin i holds the words of -i centibels
        words.extend((word, -float(index)) for word in listed)
        if len(words) >= count:
            break
    return words[:count]


def _listed_words(path: Path) -> list[str]:
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip().casefold()
        if line and not line.startswith("#"):
            words.append(line)
    return words


@dataclass(frozen=True)
class RomanizedGuess:
    language: str
    confidence: float
    words: int  # the words it was judged on


_lexicon: RomanizedLexicon | None = None
_loading = threading.Lock()


def lexicon() -> RomanizedLexicon:
    global _lexicon
    if _lexicon is None:
        with _loading:
            if _lexicon is None:
                _lexicon = RomanizedLexicon()
    return _lexicon


def guess(text: str, latin_centibels: list[float], hint: str | None) -> RomanizedGuess | None:
    """The romanized language that explains the text, if one does clearly better than Latin-script languages.

    `latin_centibels` holds, per word of the text as the Latin-script detector
    split it, that word's frequency in the best Latin-script candidate.
    """
    words = tokenize(text)
    if not words or not ROMANIZED_LANGUAGES:
        return None
    # The Latin detector reads fewer words (it drops digits, "3andi"): the rest count as unlisted there.
    latin = float(np.sum(latin_centibels)) + UNLISTED_CB * max(0, len(words) - len(latin_centibels))
    scores = {}
    for code in ROMANIZED_LANGUAGES:
        per_word = lexicon().centibels(words, code)
        known = float(np.mean(per_word > UNLISTED_CB))
        if known < MIN_KNOWN_SHARE:
            continue
        margin = (float(per_word.sum()) - latin) * math.log(10) / 100 + (HINT_PRIOR if hint == code else 0.0)
        scores[code] = margin
    if not scores:
        return None
    code = max(scores, key=scores.get)
    margin = scores[code]
    if margin < MARGIN:
        return None
    # Against the next romanized language (Russian and Ukrainian share many words), or, alone,
    # against a margin 3 nats short of the one required: a logistic of the difference.
    runner_up = max([value for key, value in scores.items() if key != code] + [MARGIN - 3.0])
    confidence = 1 / (1 + math.exp(-(margin - runner_up)))
    return RomanizedGuess(code, confidence, len(words))
