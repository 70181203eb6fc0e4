"""Language identification for chat-length messages: one detector for the whole system.

The script settles most of it (Greek, Cyrillic, Arabic, Latin, or a script no
supported language uses); within a script, lingua's and langdetect's
character models, word frequencies and distinctive letters, restricted to
the supported languages, decide; the Telegram interface language only breaks
near-ties. Unsure or unsupported text is ``und``.
"""
from bot.language.conversation import likely_readable_language, resolve_conversation_language
from bot.language.detection import Detection
from bot.language.detector import detect, warm_up

__all__ = ["Detection", "detect", "likely_readable_language", "resolve_conversation_language", "warm_up"]
