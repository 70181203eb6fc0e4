import pytest

from bot.language import Detection, detect, likely_readable_language, resolve_conversation_language


def detection(language, confidence, script="Latin", scores=None, words=1, unicode_script=None):
    return Detection(language, confidence, script, scores or {language: confidence}, unicode_script or script, words)


def test_an_explicit_choice_wins_until_changed():
    assert resolve_conversation_language(detect("Мне нужна помощь с документами"), "es", chosen="fr") == "fr"


def test_without_a_current_language_the_detection_sets_it():
    assert resolve_conversation_language(detect("necesito ayuda"), None, None) == "es"


def test_without_a_current_language_an_undetermined_message_leaves_it_unknown():
    assert resolve_conversation_language(detect("👍"), None, None) is None
    assert resolve_conversation_language(detect("ሰላም እንዴት ነህ"), None, None) is None


@pytest.mark.parametrize("text", ["ok", "hola", "taxi", "gracias", "merci", "NIE", "Barcelona"])
def test_a_short_message_does_not_flip_the_conversation(text):
    assert resolve_conversation_language(detect(text), "ca", None) == "ca"
    assert resolve_conversation_language(detect(text), "ar", None) == "ar"


def test_an_unclear_message_keeps_the_current_language():
    unclear = detection("es", 0.6, scores={"es": 0.6, "ca": 0.4}, words=4)
    assert resolve_conversation_language(unclear, "ca", None) == "ca"


def test_several_words_clearly_in_another_language_switch():
    assert resolve_conversation_language(detect("necesito ayuda con el padrón"), "en", None) == "es"
    assert resolve_conversation_language(detect("je cherche un logement pour ma famille"), "ca", None) == "fr"


def test_a_confident_message_in_another_script_switches_even_if_short():
    assert resolve_conversation_language(detect("Здравствуйте"), "es", None) == "ru"
    assert resolve_conversation_language(detect("شكرا"), "en", None) == "ar"


def test_an_unsure_message_in_another_script_does_not_switch():
    unsure = detection("ru", 0.6, script="Cyrillic", scores={"ru": 0.6, "uk": 0.4})
    assert resolve_conversation_language(unsure, "es", None) == "es"


def test_a_supported_hint_is_what_the_person_reads():
    assert likely_readable_language(detect("ሰላም"), "pt-BR") == "pt"


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        ("ሰላም እንዴት ነህ", "en"),  # Ethiopic: Amharic, Tigrinya
        ("ⴰⵣⵓⵍ ⴼⵍⴰⵡⵏ", "fr"),  # Tifinagh: Amazigh
        ("মুঝে সাহায্য", "en"),  # Bengali
        ("मुझे मदद चाहिए", "en"),  # Devanagari
        ("გამარჯობა", "ru"),  # Georgian
    ],
)
def test_an_unsupported_script_points_to_the_language_its_writers_most_often_read(text, readable):
    assert likely_readable_language(detect(text), "am") == readable


def test_without_hint_or_script_the_lingua_franca_is_used():
    assert likely_readable_language(detect("👍"), None) == "en"
    assert likely_readable_language(Detection.from_dict(None), "de") == "en"


def test_undetermined_text_in_a_supported_script_points_to_its_closest_language():
    unclear = detection("und", 0.2, scores={"ca": 0.2, "ro": 0.19, "es": 0.18, "en": 0.17, "fr": 0.1, "pt": 0.1, "it": 0.06})
    assert likely_readable_language(unclear, None) == "ca"


def test_a_detected_language_is_readable():
    assert likely_readable_language(detect("necesito ayuda"), "de") == "es"
