"""Folding text the way newcomers type it: no case, no accents, single spaces."""
from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
# Arabic-script diacritics (harakat) and the tatweel people add for emphasis.
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")


def fold(text: str) -> str:
    """Lower case, accents and punctuation removed: "Torelló!" -> "torello"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(
        char
        for char in decomposed
        # Combining marks carry accents in Latin, Greek and Cyrillic; in Cyrillic
        # "й" and "ї" decompose too, and dropping their marks still matches how
        # people type them on phones without the letters.
        if not unicodedata.combining(char)
    )
    without_marks = _ARABIC_MARKS.sub("", without_marks)
    return _NON_WORD.sub(" ", without_marks).strip()


def words(text: str) -> list[str]:
    return fold(text).split()


def _joiner_kept(text: str, index: int) -> bool:
    """ZWNJ and ZWJ shape Persian, Urdu and Indic words: kept between two letters of those scripts."""
    before, after = text[index - 1 : index], text[index + 1 : index + 2]
    return bool(before and after) and all(char.isalpha() and ord(char) > 0x024F for char in before + after)


def without_format_characters(text: str) -> str:
    """What a newcomer typed without the invisible characters phones and copy-paste put inside words.

    Zero-width spaces, soft hyphens, byte-order and direction marks (Unicode
    category Cf) split "pa\u200bdró" into pieces no model knows; ZWNJ and ZWJ
    stay where they belong to the writing.
    """
    return "".join(
        char
        for index, char in enumerate(text)
        if unicodedata.category(char) != "Cf" or (char in "\u200c\u200d" and _joiner_kept(text, index))
    )
