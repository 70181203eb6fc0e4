"""The supported languages: the one list every other part of Acollida reads.

Adding a language is a data change: add it here, then its NLU examples
(nlu_data/nlu/<code>.yml), its texts (bot/texts/<code>.yml) and its knowledge
articles (knowledge/<pack>/articles/<code>/).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1
    native_name: str  # what the language menu shows: each language in its own name
    english_name: str
    script: str  # the script it is written in, as bot.language names scripts
    right_to_left: bool = False


SUPPORTED_LANGUAGES: tuple[Language, ...] = (
    Language("ca", "Català", "Catalan", "Latin"),
    Language("es", "Español", "Spanish", "Latin"),
    Language("en", "English", "English", "Latin"),
    Language("fr", "Français", "French", "Latin"),
    Language("ar", "العربية", "Arabic", "Arabic", right_to_left=True),
    Language("ur", "اردو", "Urdu", "Arabic", right_to_left=True),
    Language("ro", "Română", "Romanian", "Latin"),
    Language("uk", "Українська", "Ukrainian", "Cyrillic"),
    Language("ru", "Русский", "Russian", "Cyrillic"),
    Language("pt", "Português", "Portuguese", "Latin"),
    Language("it", "Italiano", "Italian", "Latin"),
    Language("el", "Ελληνικά", "Greek", "Greek"),
    # Persian as written in Iran and as Dari in Afghanistan: one written standard.
    Language("fa", "فارسی", "Persian", "Arabic", right_to_left=True),
)

LANGUAGE_CODES: tuple[str, ...] = tuple(language.code for language in SUPPORTED_LANGUAGES)
LANGUAGES_BY_CODE: dict[str, Language] = {language.code: language for language in SUPPORTED_LANGUAGES}

# The language of the territory: what staff write first and what the bot falls
# back to for content, never for a person whose language is unknown.
LOCAL_LANGUAGE = "ca"

# Whom to address when nothing tells us the person's language: the languages a
# newcomer is most likely to read, in order. Used with the language menu.
LINGUA_FRANCA = "en"

UNDETERMINED = "und"


def is_supported(code: str | None) -> bool:
    return code in LANGUAGES_BY_CODE


def normalise_code(code: str | None) -> str | None:
    """Telegram sends IETF tags such as "pt-br" or "uk-UA": keep the language part."""
    if not code:
        return None
    return code.replace("_", "-").split("-")[0].lower() or None


# What people write when they ask for a language ("in arabic please",
# "по-русски", "بالعربي"): each language's name in its own tongue and in the
# other supported ones, including common forms without accents.
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "ca": ("català", "catala", "catalan", "catalán", "catalano", "catalão", "catalao", "каталанська", "каталанский", "الكاتالونية", "كتالاني", "کاتالان", "καταλανικά", "catalană"),
    "es": ("español", "espanol", "castellano", "castellà", "spanish", "espagnol", "spagnolo", "espanhol", "spaniola", "spaniolă", "іспанська", "испанский", "الإسبانية", "الاسبانية", "اسباني", "ہسپانوی", "ισπανικά"),
    "en": ("english", "inglés", "ingles", "anglès", "angles", "anglais", "inglese", "inglês", "engleza", "engleză", "англійська", "английский", "الإنجليزية", "الانجليزية", "انجليزي", "انگریزی", "αγγλικά"),
    "fr": ("français", "francais", "french", "francés", "frances", "francès", "francese", "francês", "franceza", "franceză", "французька", "французский", "الفرنسية", "فرنسي", "فرانسیسی", "γαλλικά"),
    "ar": ("العربية", "عربي", "عربية", "بالعربي", "arabic", "árabe", "arabe", "àrab", "arab", "arabo", "araba", "арабська", "арабский", "عربی", "αραβικά"),
    "ur": ("اردو", "urdu", "урду", "الأردية", "الاردية", "ουρντού"),
    "ro": ("română", "romana", "romanian", "rumano", "romanès", "romanes", "roumain", "rumeno", "romeno", "румунська", "румынский", "الرومانية", "رومانی", "ρουμανικά"),
    "uk": ("українська", "украинский", "українською", "ukrainian", "ucraniano", "ucraïnès", "ucraines", "ukrainien", "ucraino", "ucraineana", "ucraineană", "الأوكرانية", "الاوكرانية", "یوکرینی", "ουκρανικά"),
    "ru": ("русский", "російська", "по-русски", "по русски", "russian", "ruso", "rus", "russe", "russo", "rusa", "الروسية", "روسي", "روسی", "ρωσικά"),
    "pt": ("português", "portugues", "portuguese", "portugués", "portuguès", "portugais", "portoghese", "portugheza", "portugheză", "португальська", "португальский", "البرتغالية", "پرتگالی", "πορτογαλικά"),
    "it": ("italiano", "italian", "italià", "italia", "italien", "italiana", "італійська", "итальянский", "الإيطالية", "الايطالية", "اطالوی", "ιταλικά"),
    "fa": ("فارسی", "فارسي", "فارسى", "دری", "دري", "farsi", "persian", "persa", "persan", "persiano", "persană", "persana", "перська", "персидский", "по-персидски", "фарси", "фарсі", "дари", "дарі", "الفارسية", "فارسية", "الدرية", "پارسی", "farsí", "parsi", "persà", "περσικά", "φαρσί", "dari"),
    "el": ("ελληνικά", "ελληνικα", "greek", "griego", "grec", "greco", "grego", "greaca", "greacă", "грецька", "греческий", "اليونانية", "یونانی"),
}


def named_language(text: str) -> str | None:
    """The supported language a message names ("en français svp" -> "fr"), if any."""
    from bot.textfold import fold

    folded = f" {fold(text)} "
    for code, names in LANGUAGE_NAMES.items():
        if any(f" {fold(name)} " in folded for name in names):
            return code
    return None
