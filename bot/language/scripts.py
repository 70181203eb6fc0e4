"""Writing systems: the first and surest signal about a message's language.

A letter's Unicode name starts with its script ("CYRILLIC SMALL LETTER A"),
so no table of code-point ranges is needed.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from bot.languages import SUPPORTED_LANGUAGES

NO_LETTERS = "None"
OTHER = "Other"

SUPPORTED_SCRIPTS: frozenset[str] = frozenset(language.script for language in SUPPORTED_LANGUAGES)

# Unicode names whose first word is not a script: these letters say nothing.
_NOT_SCRIPTS = frozenset({"MODIFIER", "FEMININE", "MASCULINE", "SUPERSCRIPT", "SUBSCRIPT", "FULLWIDTH", "HALFWIDTH"})
_SCRIPT_ALIASES = {"CJK": "Han", "NKO": "NKo"}

# Letters one language of a shared script uses and its neighbour does not.
# Each occurrence is evidence for that language; lingua's character models see
# them too, but a single letter in a short message deserves more weight.
DISTINCTIVE_LETTERS: dict[str, str] = {
    "uk": "іїєґ",
    "ru": "ыэъё",
    # Urdu's own letters, and the Persian ones Arabic does not use (ک گ ی پ چ ژ).
    "ur": "ےۓہںٹڈڑھکگیپچژ",
    # Arabic's own letters, and its heh (ه), which Persian writes too and Urdu
    # never does (Urdu writes ہ and ھ): evidence against Urdu, for both others.
    "ar": "ةىيكأإه",
    # Persian's letters that Arabic does not use (Urdu uses them too), and heh.
    "fa": "کگیپچژه",
}

# The whole alphabets of supported languages whose script unsupported languages
# share. ы, э and ё are Russian's among them; є, ї and ґ Ukrainian's.
ALPHABETS: dict[str, str] = {
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
}

# Unsupported languages that share those letters and that the detector does
# not model, by alphabet. Bulgarian is modelled (see detector.py), so it
# competes on the evidence and is not listed here. Belarusian lacks и, щ and
# ъ; Serbian and Macedonian lack й, щ, ъ, ь, ю, я, ы, э and ё. The Turkic
# languages, Tajik and Mongolian write Russian's letters plus their own, which
# a few words of theirs hardly ever do without.
UNMODELLED_ALPHABETS: dict[str, str] = {
    "be": "абвгґдеёжзійклмнопрстуўфхцчшыьэюя",
    "sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
}
_UNMODELLED_LETTERS = tuple(frozenset(alphabet) for alphabet in UNMODELLED_ALPHABETS.values())

# Whom to address when a message is in a script no supported language uses:
# the supported language its writers most often learnt at school or use with
# officials. Scripts not listed fall back to bot.languages.LINGUA_FRANCA.
READABLE_LANGUAGE_BY_SCRIPT: dict[str, str] = {
    "Ethiopic": "en",  # Amharic, Tigrinya
    "Bengali": "en",
    "Devanagari": "en",  # Hindi, Nepali
    "Gurmukhi": "en",  # Punjabi in India
    "Tamil": "en",
    "Sinhala": "en",
    "Tifinagh": "fr",  # Amazigh in Morocco and Algeria
    "NKo": "fr",  # Manding in Guinea and Mali
    "Adlam": "fr",  # Fula in Guinea and Senegal
    "Georgian": "ru",
    "Armenian": "ru",
    "Mongolian": "ru",
    "Syriac": "ar",
}


@lru_cache(maxsize=4096)
def letter_script(char: str) -> str | None:
    """The Unicode script of a letter ("Latin", "Ethiopic"...), None for anything else."""
    if not char.isalpha():
        return None
    first_word = unicodedata.name(char, "").split(" ", 1)[0]
    if not first_word or first_word in _NOT_SCRIPTS:
        return None
    return _SCRIPT_ALIASES.get(first_word, first_word.capitalize())


@dataclass(frozen=True)
class ScriptProfile:
    unicode_script: str  # the dominant letters' Unicode script, "" without letters
    letters: int  # letters in that script

    @property
    def script(self) -> str:
        """The script as Detection names it: a supported script, "Other" or "None"."""
        if not self.unicode_script:
            return NO_LETTERS
        return self.unicode_script if self.unicode_script in SUPPORTED_SCRIPTS else OTHER


# Latin letters come into messages written in other scripts all the time:
# an address ("Я живу на Carrer de Mallorca 245"), a name, a brand, an English
# term or some boilerplate pasted along. The reverse is rarer: whoever types a
# few words in Cyrillic, Greek or Arabic letters chose that keyboard, and
# reads that script. So a supported non-Latin script with at least this many
# words, and this share of the words, names the message even where Latin
# letters are more. A name alone ("I need help, Ахмед Петров") is not enough.
NON_LATIN_MIN_WORDS = 2
NON_LATIN_MIN_SHARE = 1 / 3
_WORD = re.compile(r"[^\W\d_]+")


def script_profile(text: str) -> ScriptProfile:
    counts: Counter[str] = Counter()
    for char, times in Counter(text).items():
        script = letter_script(char)
        if script:
            counts[script] += times
    if not counts:
        return ScriptProfile("", 0)
    unicode_script, letters = counts.most_common(1)[0]
    if unicode_script == "Latin" and any(script in SUPPORTED_SCRIPTS and script != "Latin" for script in counts):
        words = Counter(_word_script(word) for word in _WORD.findall(text))
        total = sum(words.values())
        for script, count in words.most_common():
            if script in SUPPORTED_SCRIPTS and script != "Latin" and count >= max(NON_LATIN_MIN_WORDS, NON_LATIN_MIN_SHARE * total):
                return ScriptProfile(script, counts[script])
    return ScriptProfile(unicode_script, letters)


def _word_script(word: str) -> str | None:
    """The script of a word's letters, None for a word mixing scripts or without any."""
    scripts = {letter_script(char) for char in word}
    return scripts.pop() if len(scripts) == 1 else None


def keep_script(text: str, unicode_script: str) -> str:
    """The text with letters of other scripts blanked: an English brand name does not vote in Urdu."""
    foreign = {ord(char): " " for char in set(text) if letter_script(char) not in (None, unicode_script)}
    return text.translate(foreign) if foreign else text


def in_modelled_alphabet(text: str, code: str) -> bool:
    """Whether the text's letters of the language's script are all in its alphabet, and no unmodelled language writes them all.

    Such a text is in one of the modelled languages, however rare its words:
    the detector's models decide which, and nothing else could have written it.
    """
    if code not in ALPHABETS:
        return False
    alphabet = ALPHABETS[code]
    script = letter_script(alphabet[0])
    letters = {char for char in text.lower() if letter_script(char) == script}
    return bool(letters) and letters <= set(alphabet) and not any(letters <= other for other in _UNMODELLED_LETTERS)


def distinctive_letter_counts(text: str, codes: tuple[str, ...]) -> list[int]:
    return [sum(text.count(letter) for letter in DISTINCTIVE_LETTERS.get(code, "")) for code in codes]
