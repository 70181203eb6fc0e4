"""The bridge between Rasa's tracker and ``bot.conversation``."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.conversation import Context, Turn, offer_other_language
from bot.channel_protocol import TELEGRAM_CHANNEL
from bot.language import Detection
from bot.languages import normalise_code

LANGUAGE_CHOSEN_NOW = "language_chosen_now"
OTHER_LANGUAGE_OFFERED = "other_language_offered"


def latest_detection(tracker: Tracker) -> Detection:
    return Detection.from_dict(tracker.latest_message.get("language"))


def _metadata(tracker: Tracker) -> dict:
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def telegram_hint(tracker: Tracker) -> str | None:
    return normalise_code(_metadata(tracker).get("language_code"))


def telegram_chat(tracker: Tracker) -> int | None:
    """The Telegram chat the message came from; only there can a mediator take over."""
    metadata = _metadata(tracker)
    if metadata.get("channel") != TELEGRAM_CHANNEL:
        return None
    try:
        return int(metadata["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


def intent_of(tracker: Tracker) -> str | None:
    """The intent of the latest message as the NLU gave it, nlu_fallback included."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name")


def entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value is not None else None


def context_from(tracker: Tracker) -> Context:
    language_chosen_now = tracker.get_slot(LANGUAGE_CHOSEN_NOW)
    return Context(
        text=tracker.latest_message.get("text") or "",
        detection=latest_detection(tracker),
        language=tracker.get_slot("language"),
        hint=telegram_hint(tracker),
        municipality=tracker.get_slot("municipality"),
        topic=tracker.get_slot("topic"),
        fallback_count=int(tracker.get_slot("fallback_count") or 0),
        pending_offer=tracker.get_slot("pending_offer"),
        chosen_language=tracker.get_slot("language") if language_chosen_now else None,
        sender_id=tracker.sender_id,
        chat_id=telegram_chat(tracker),
        other_language_offered=bool(tracker.get_slot(OTHER_LANGUAGE_OFFERED)),
    )


def send(turn: Turn, dispatcher: CollectingDispatcher, context: Context) -> List[Dict[Text, Any]]:
    turn = offer_other_language(context, turn)
    for message in turn.replies:
        dispatcher.utter_message(**message)
    return [SlotSet(name, value) for name, value in turn.slots.items()]
