"""A regression floor on the kind of message newcomers send, ten per language, written for this test."""
import pytest

from bot.language import detect
from bot.languages import LANGUAGE_CODES

MESSAGES = {
    "ca": ["necessito ajuda amb el padró", "on puc demanar la targeta sanitària?", "bon dia", "vull aprendre català",
           "on és l'ajuntament?", "no tinc feina", "busco un pis de lloguer", "com puc empadronar-me?",
           "gràcies per la informació", "a quina hora obre l'oficina"],
    "es": ["necesito ayuda", "tarjeta sanitaria", "¿dónde está el ayuntamiento?", "quiero aprender catalán",
           "no tengo papeles", "busco trabajo", "como me empadrono", "muchas gracias",
           "mi hijo necesita ir a la escuela", "¿a qué hora abren?"],
    "en": ["I need help", "where can I get a health card?", "good morning", "I am looking for a job",
           "how do I register at the town hall?", "thank you very much", "I don't have a place to live",
           "my children need a school", "can I speak to a person?", "what documents do I need?"],
    "fr": ["j'ai besoin d'aide", "où est la mairie ?", "bonjour", "je cherche du travail",
           "comment obtenir la carte de santé ?", "merci beaucoup", "je n'ai pas de logement",
           "mes enfants doivent aller à l'école", "je voudrais apprendre le catalan", "quels papiers faut-il ?"],
    "ar": ["مرحبا", "أحتاج مساعدة", "أين البلدية؟", "أبحث عن عمل", "كيف أحصل على البطاقة الصحية؟", "شكرا جزيلا",
           "ليس لدي مكان للسكن", "أريد تعلم اللغة الإسبانية", "أطفالي يحتاجون إلى مدرسة", "ما هي الوثائق المطلوبة؟"],
    "ur": ["کیا حال ہے", "مجھے مدد چاہیے", "ٹاؤن ہال کہاں ہے؟", "میں کام ڈھونڈ رہا ہوں", "ہیلتھ کارڈ کیسے ملے گا؟",
           "بہت شکریہ", "میرے پاس رہنے کی جگہ نہیں ہے", "میں کاتالان سیکھنا چاہتا ہوں", "میرے بچوں کو اسکول جانا ہے",
           "کون سے کاغذات چاہئیں؟"],
    "ro": ["am nevoie de ajutor", "unde este primăria?", "bună ziua", "caut un loc de muncă",
           "cum obțin cardul de sănătate?", "mulțumesc frumos", "nu am unde să locuiesc",
           "copiii mei trebuie să meargă la școală", "vreau să învăț catalana", "ce acte îmi trebuie?"],
    "uk": ["Мені ніде жити", "мені потрібна допомога", "де знаходиться мерія?", "я шукаю роботу",
           "як отримати медичну картку?", "дуже дякую", "добрий день", "мої діти мають ходити до школи",
           "я хочу вивчати каталонську", "які документи потрібні?"],
    "ru": ["мне нужна помощь", "где находится мэрия?", "я ищу работу", "как получить медицинскую карту?",
           "большое спасибо", "мне негде жить", "добрый вечер", "мои дети должны ходить в школу",
           "я хочу выучить испанский", "какие документы нужны?"],
    "pt": ["bom dia", "preciso de ajuda", "onde fica a câmara municipal?", "estou à procura de trabalho",
           "como obtenho o cartão de saúde?", "muito obrigado", "não tenho onde morar",
           "os meus filhos precisam de escola", "quero aprender catalão", "que documentos são precisos?"],
    "it": ["ho bisogno di aiuto", "dov'è il comune?", "buongiorno", "cerco lavoro",
           "come ottengo la tessera sanitaria?", "grazie mille", "non ho una casa",
           "i miei figli devono andare a scuola", "voglio imparare il catalano", "quali documenti servono?"],
    "el": ["χρειάζομαι βοήθεια", "πού είναι το δημαρχείο;", "καλημέρα", "ψάχνω δουλειά", "πώς παίρνω κάρτα υγείας;",
           "ευχαριστώ πολύ", "δεν έχω σπίτι", "τα παιδιά μου πρέπει να πάνε σχολείο", "θέλω να μάθω καταλανικά",
           "ποια έγγραφα χρειάζομαι;"],
    "fa": ["به کمک نیاز دارم", "شهرداری کجاست؟", "صبح بخیر", "دنبال کار می‌گردم", "چطور کارت بهداشت بگیرم؟",
           "خیلی ممنون", "جایی برای زندگی ندارم", "بچه‌هایم باید به مدرسه بروند", "می‌خواهم کاتالانی یاد بگیرم",
           "چه مدارکی لازم است؟"],
}


def test_every_supported_language_has_messages():
    assert set(MESSAGES) == set(LANGUAGE_CODES)


@pytest.mark.parametrize("code", LANGUAGE_CODES)
def test_each_language_gets_nearly_all_its_messages_right(code):
    wrong = {text: detect(text).language for text in MESSAGES[code] if detect(text).language != code}
    assert len(wrong) <= 1, wrong


def test_the_messages_overall_are_right_at_least_97_percent():
    answers = [detect(text).language == code for code, texts in MESSAGES.items() for text in texts]
    assert sum(answers) / len(answers) >= 0.97


def test_messages_typed_without_accents_are_still_recognised():
    unaccented = {"necessito ajuda amb el padro": "ca", "on es l'ajuntament": "ca", "tarjeta sanitaria": "es",
                  "donde esta el ayuntamiento": "es", "ou est la mairie": "fr", "nao tenho onde morar": "pt",
                  "multumesc frumos": "ro", "ευχαριστω πολυ": "el",
                  "on puc apuntar el meu fill al col.legi": "ca"}
    assert {text: detect(text).language for text in unaccented} == unaccented
