"""The custom NLU components, each on its own."""
from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.language_detector import LanguageDetector
from bot.nlu.tokenizer import LanguageAwareTokenizer
from bot.nlu.unreadable_text import UnreadableTextFallback


def detected(text: str, metadata: dict | None = None) -> Message:
    message = Message(data={"text": text, "metadata": metadata or {}})
    LanguageDetector().process([message])
    return message


def test_detection_goes_into_the_parse_result():
    message = detected("Мені ніде жити, допоможіть")
    assert message.get("language")["language"] == "uk"
    assert "language" in message.as_dict(only_output_properties=True)


def test_the_telegram_language_code_is_used_as_a_prior():
    # "hola" is Catalan and Spanish alike: the app's language breaks the tie.
    assert detected("hola", {"language_code": "ca"}).get("language")["language"] == "ca"
    assert detected("hola", {"language_code": "es"}).get("language")["language"] == "es"


def test_training_examples_are_annotated_too():
    data = TrainingData([Message(data={"text": "bonjour, je cherche un logement", "intent": "housing"})])
    LanguageDetector().process_training_data(data)
    assert data.training_examples[0].get("language")["language"] == "fr"


def tokens(text: str) -> list[str]:
    message = detected(text)
    tokenizer = LanguageAwareTokenizer(LanguageAwareTokenizer.get_default_config())
    return [token.text for token in tokenizer.tokenize(message, "text")]


def test_tokenizer_splits_elisions_the_way_each_language_writes_them():
    assert tokens("on és l'oficina d'acollida") == ["on", "és", "l'", "oficina", "d'", "acollida"]
    assert tokens("où est l'école de mon fils") == ["où", "est", "l'", "école", "de", "mon", "fils"]
    assert tokens("أين مكتب الاستقبال؟") == ["أين", "مكتب", "الاستقبال"]


def classified(text: str) -> Message:
    message = detected(text)
    message.set("intent", {"name": "greet", "confidence": 0.8}, add_to_output=True)
    message.set("intent_ranking", [{"name": "greet", "confidence": 0.8}], add_to_output=True)
    UnreadableTextFallback().process([message])
    return message


def test_text_without_letters_or_in_an_unsupported_script_is_not_classified():
    for text in ("🙏🙏🙏", "", "ሰላም እንዴት ነህ", "ⴰⵣⵓⵍ"):
        assert classified(text).get("intent")["name"] == "nlu_fallback", text
    assert classified("hello there").get("intent")["name"] == "greet"


def test_text_in_an_unsupported_language_of_a_supported_script_is_not_classified():
    # Bulgarian shares Russian's letters; classified, it would be Russian.
    for text in ("Здравейте, търся работа в града", "Ich habe keine Wohnung und keine Arbeit"):
        assert classified(text).get("intent")["name"] == "nlu_fallback", text
    # A word or two that are merely ambiguous are classified as usual.
    assert classified("hola").get("intent")["name"] == "greet"
    # Persian, once a neighbour modelled to be refused, is a supported language now.
    assert classified("سلام، من به کمک نیاز دارم").get("intent")["name"] == "greet"


def test_a_message_without_features_is_a_fallback_not_an_error():
    from bot.nlu.intent_classifier import TextIntentClassifier

    message = Message(data={"text": ""})
    # process() on a message the featurizers left empty never reaches the model
    classifier = TextIntentClassifier.__new__(TextIntentClassifier)
    classifier.process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
