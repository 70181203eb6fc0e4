import pytest

from bot.language.scripts import (
    DISTINCTIVE_LETTERS,
    READABLE_LANGUAGE_BY_SCRIPT,
    distinctive_letter_counts,
    keep_script,
    in_modelled_alphabet,
    letter_script,
    script_profile,
)
from bot.languages import LANGUAGES_BY_CODE, is_supported


@pytest.mark.parametrize(
    ("text", "script", "unicode_script"),
    [
        ("Καλημέρα", "Greek", "Greek"),
        ("Добрий день", "Cyrillic", "Cyrillic"),
        ("مرحبا", "Arabic", "Arabic"),
        ("کیا حال ہے", "Arabic", "Arabic"),
        ("bon dia", "Latin", "Latin"),
        ("ሰላም እንዴት ነህ", "Other", "Ethiopic"),
        ("ⴰⵣⵓⵍ", "Other", "Tifinagh"),
        ("你好", "Other", "Han"),
        ("नमस्ते", "Other", "Devanagari"),
        ("", "None", ""),
        ("  \n\t", "None", ""),
        ("👍🙏", "None", ""),
        ("112 / 061", "None", ""),
    ],
)
def test_the_dominant_script_names_what_a_message_is_written_in(text, script, unicode_script):
    profile = script_profile(text)
    assert (profile.script, profile.unicode_script) == (script, unicode_script)


def test_the_script_with_most_letters_wins_in_mixed_text():
    assert script_profile("Acollida میں خوش آمدید، مجھے مدد چاہیے").script == "Arabic"
    assert script_profile("I need help with my NIE ok").script == "Latin"


def test_a_few_words_in_a_non_latin_script_name_a_message_with_more_latin_letters():
    # Addresses, names and English terms come in Latin letters into messages in other scripts.
    assert script_profile("Я живу на Carrer de Mallorca 245, Barcelona").script == "Cyrillic"
    assert script_profile("Ζω στην Carrer de Sants 12, Barcelona").script == "Greek"
    assert script_profile("Appointment at Hospital Clínic کب ہے میری").script == "Arabic"


def test_a_name_in_another_script_does_not_outvote_a_latin_message():
    assert script_profile("I need help with the NIE please, Ахмед Петров").script == "Latin"
    assert script_profile("Hello شكرا friend, how are you").script == "Latin"
    assert script_profile("My name is Иван, I need help").script == "Latin"


def test_letters_that_are_not_of_a_script_are_ignored():
    assert letter_script("ª") is None
    assert letter_script("7") is None
    assert letter_script("ё") == "Cyrillic"


def test_other_scripts_are_blanked_so_they_do_not_vote():
    assert keep_script("WhatsApp پر لکھیں", "Arabic").split() == ["پر", "لکھیں"]


def test_urdu_letters_count_for_urdu_and_arabic_letters_for_arabic():
    assert distinctive_letter_counts("کیا حال ہے", ("ar", "ur")) == [0, 4]
    assert distinctive_letter_counts("مدينة", ("ar", "ur")) == [2, 0]


def test_ukrainian_letters_count_for_ukrainian_and_russian_letters_for_russian():
    assert distinctive_letter_counts("Мені ніде жити", ("uk", "ru")) == [2, 0]
    assert distinctive_letter_counts("съешь ещё", ("uk", "ru")) == [0, 2]


def test_script_tables_name_only_supported_languages():
    assert all(is_supported(code) for code in READABLE_LANGUAGE_BY_SCRIPT.values())
    assert all(
        script_profile(letters).script == LANGUAGES_BY_CODE[code].script
        for code, letters in DISTINCTIVE_LETTERS.items()
        if is_supported(code)
    )


def test_persian_letters_count_for_persian_and_urdu_alike_and_urdus_own_for_urdu_only():
    # "I need help" in Persian, then in Urdu.
    persian, urdu = distinctive_letter_counts("من به کمک نیاز دارم", ("ur", "fa", "ar")), distinctive_letter_counts("مجھے مدد چاہیے", ("ur", "fa", "ar"))
    # Persian's heh (in "به") counts for Persian and Arabic, never for Urdu, which writes ہ
    assert persian[1] == persian[0] + 1 and persian[0] > 0 and persian[2] == 1
    assert urdu[0] > urdu[1]


@pytest.mark.parametrize(
    ("text", "code", "expected"),
    [
        ("Претенциозных трусишек у быстроглазых осетинок", "ru", True),
        ("Вреднючие собачонки", "ru", True),  # ю: not Serbian or Macedonian; и: not Belarusian
        ("Добър ден, търся работа", "ru", True),  # Bulgarian is modelled: the models tell it from Russian
        ("Мы жывем у горадзе Мінск", "ru", False),  # і and ў: Belarusian
        ("Добар дан, тражим посао", "ru", False),  # every letter is Serbian's too
        ("Треба ми лекар", "ru", False),  # Macedonian or Serbian: nothing Russian's own
        ("Добры дзень", "ru", False),  # Belarusian writes every one of these letters
        ("Мені ніде жити", "uk", True),  # и: not Belarusian; і: not Russian, Serbian or Macedonian
        ("Їжачок їсть яблука", "uk", True),
        ("Їжачок ыы", "uk", False),
        ("Дякую, Sant Joan", "uk", False),  # the Latin letters do not count; Belarusian writes the rest
        ("Здравствуйте", "el", False),
    ],
)
def test_a_message_only_modelled_languages_could_write_is_explained_by_its_letters(text, code, expected):
    assert in_modelled_alphabet(text, code) is expected
