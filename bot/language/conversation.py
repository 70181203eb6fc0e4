"""The conversation's language: sticky, changed by a choice or by clear evidence."""
from __future__ import annotations

from bot.language.detection import Detection
from bot.language.scripts import READABLE_LANGUAGE_BY_SCRIPT
from bot.languages import LANGUAGES_BY_CODE, LINGUA_FRANCA, LOCAL_LANGUAGE, is_supported, normalise_code

# A message switches the conversation to another language only when it is
# this sure and has at least this many words: "ok", "hola", "gracias" or
# "taxi" are words anyone here picks up, and say little about what a person reads.
SWITCH_CONFIDENCE = 0.9
SWITCH_MIN_WORDS = 2
# A message in another script than the territory's ("Привіт" in a Spanish
# conversation) shows the keyboard the person uses: even one word switches.
SWITCH_SCRIPT_CONFIDENCE = 0.75
TERRITORY_SCRIPT = LANGUAGES_BY_CODE[LOCAL_LANGUAGE].script


def resolve_conversation_language(detection: Detection, current: str | None, chosen: str | None) -> str | None:
    """The conversation's language after this message; None while unknown."""
    if is_supported(chosen):
        return chosen
    detected = detection.language if is_supported(detection.language) else None
    if not is_supported(current):
        return detected
    if detected is None or detected == current:
        return current
    if detection.script != TERRITORY_SCRIPT and detection.script != LANGUAGES_BY_CODE[current].script:
        return detected if detection.confidence >= SWITCH_SCRIPT_CONFIDENCE else current
    clearly_other = detection.confidence >= SWITCH_CONFIDENCE and detection.words >= SWITCH_MIN_WORDS
    return detected if clearly_other else current


def likely_readable_language(detection: Detection, hint: str | None) -> str:
    """For a message the deployment cannot read: the supported language its writer most likely reads."""
    code = normalise_code(hint)
    if code and is_supported(code):
        return code
    if is_supported(detection.language):
        return detection.language
    if detection.scores:
        # Text in a supported script that no candidate explained well (German,
        # Persian): the closest candidate is still the best guess.
        return max(detection.scores, key=lambda code: detection.scores[code])
    return READABLE_LANGUAGE_BY_SCRIPT.get(detection.unicode_script, LINGUA_FRANCA)
