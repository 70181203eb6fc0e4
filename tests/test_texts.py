"""Every sentence a newcomer reads exists in every supported language."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.languages import LANGUAGE_CODES, LANGUAGE_NAMES, SUPPORTED_LANGUAGES, named_language
from bot.texts import TEXTS_DIR, catalogue, placeholders, say

SOURCE_DIRS = [Path("bot"), Path("actions")]


def test_every_language_has_a_catalogue_and_nothing_else_does():
    assert sorted(path.stem for path in TEXTS_DIR.glob("*.yml")) == sorted(LANGUAGE_CODES)


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_every_sentence_exists_with_the_same_placeholders(language):
    english, translated = catalogue("en"), catalogue(language)
    assert sorted(translated) == sorted(english), f"{language}.yml keys differ from en.yml"
    for key, sentence in english.items():
        assert translated[key].strip(), f"{language}.yml: {key} is empty"
        assert placeholders(translated[key]) == placeholders(sentence), f"{language}.yml: {key} placeholders differ"


def test_every_key_used_in_code_is_in_the_catalogue():
    used = set()
    for directory in SOURCE_DIRS:
        for path in directory.rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            used |= set(re.findall(r"(?:say|sentence)\(\s*\"([a-z_]+)\"", source))
    assert used, "found no calls to say() or sentence()"
    assert used <= set(catalogue("en")), sorted(used - set(catalogue("en")))


def test_every_sentence_in_the_catalogue_is_used():
    sources = "\n".join(path.read_text(encoding="utf-8") for d in SOURCE_DIRS for path in d.rglob("*.py"))
    # weekday names are looked up as f"day_{day}" by bot.replies.opening_hours
    unused = [key for key in catalogue("en") if f'"{key}"' not in sources and not key.startswith("day_")]
    assert unused == []


def test_language_changed_is_written_in_its_own_language():
    sentences = {code: say("language_changed", code) for code in LANGUAGE_CODES}
    assert len(set(sentences.values())) == len(LANGUAGE_CODES)


def test_unsupported_language_falls_back_to_english():
    assert say("goodbye", "de") == say("goodbye", "en")


def test_the_language_menu_names_each_language_in_itself_and_every_language_can_be_named():
    assert [language.code for language in SUPPORTED_LANGUAGES] and len({l.native_name for l in SUPPORTED_LANGUAGES}) == len(SUPPORTED_LANGUAGES)
    for language in SUPPORTED_LANGUAGES:
        assert named_language(language.native_name) == language.code
        assert named_language(f"please {language.english_name}") == language.code
    assert set(LANGUAGE_NAMES) == set(LANGUAGE_CODES)
    assert named_language("bitte auf deutsch") is None
    assert named_language("en français svp") == "fr"
    assert named_language("بالعربي من فضلك") == "ar"
