"""Languages typed in Latin letters: detected as themselves, without taking Latin-script text.

The texts here are written for these tests; the measured figures come from
`acollida language bench` on texts no part of the detector was built from.
"""
from __future__ import annotations

import pytest
from wordfreq import top_n_list

from bot.language import detect, romanized


@pytest.mark.parametrize(
    "text, language",
    [
        ("mujhe kaam chahiye", "ur"),
        ("mjhe doctor ke paas jana hai", "ur"),
        ("baddi doctor w ma 3andi karta", "ar"),
        ("bghit nkhdem", "ar"),
        ("ana 3ayez sho8l", "ar"),
        ("ishchu rabotu v vike", "ru"),
        ("mne nuzhen vrach dlya rebenka", "ru"),
        ("shukayu robotu", "uk"),
        ("meni potribna dopomoha z dokumentamy", "uk"),
        ("psaxno douleia", "el"),
        ("8elw na mathw ellinika", "el"),
        ("pou einai to nosokomeio", "el"),
    ],
)
def test_transliterated_text_is_its_language_in_latin_script(text, language):
    detection = detect(text)
    assert (detection.language, detection.script, detection.romanized) == (language, "Latin", True)
    assert detection.as_dict()["romanized"] is True


@pytest.mark.parametrize(
    "text, language",
    [
        ("necesito trabajo en vic", "es"),
        ("cerco lavoro", "it"),
        ("caut de lucru", "ro"),
        ("multumesc frumos", "ro"),
        ("preciso de trabalho", "pt"),
        ("i need a doctor", "en"),
        ("informații despre școală", "ro"),
    ],
)
def test_latin_script_languages_stay_themselves(text, language):
    detection = detect(text)
    assert detection.language == language and not detection.romanized


def test_text_in_its_own_script_is_not_called_romanized():
    assert not detect("Шукаю роботу").romanized and detect("Шукаю роботу").language == "uk"


def test_accented_words_are_never_romanized():
    assert romanized.tokenize("válidas razones") is None
    assert romanized.guess("chômage", [-400.0], None) is None


@pytest.mark.parametrize("code", ["es", "it", "pt", "ro", "ca", "fr", "en"])
def test_common_words_of_latin_script_languages_are_rarely_taken_for_romanized(code):
    # wordfreq's lists, not any test set: the 500th to 3,000th most frequent words
    words = top_n_list(code, 3000)[500:]
    taken = [word for word in words if detect(word).romanized]
    assert len(taken) / len(words) < 0.01, taken[:20]


def test_arabizi_and_roman_urdu_vowels_may_differ_from_the_lexicon():
    # a listed word typed with other vowels still counts, at a penalty; letters no word has do not
    lexicon = romanized.lexicon()
    assert "mujhe" in lexicon.tables["ur"] and "mjhoo" not in lexicon.tables["ur"]
    listed, other_vowels, nothing = lexicon.centibels(["mujhe", "mjhoo", "zzqx"], "ur")
    assert listed - romanized.OTHER_VOWELS_CB <= other_vowels < listed and nothing == romanized.UNLISTED_CB


def test_the_interface_language_settles_a_short_romanized_message():
    assert detect("spasibo", hint="ru").language == "ru"
    assert detect("spasibo", hint="ru").romanized
