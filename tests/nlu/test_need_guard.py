"""NeedsBeforeSmallTalk: a need that the classifier put second is answered, not brushed off."""
from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.nlu.need_guard import NeedsBeforeSmallTalk


def classified(text: str, ranking: list[tuple[str, float]]) -> Message:
    message = Message(data={"text": text})
    entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    message.set("intent", entries[0], add_to_output=True)
    message.set("intent_ranking", entries, add_to_output=True)
    NeedsBeforeSmallTalk(NeedsBeforeSmallTalk.get_default_config()).process([message])
    return message


def test_a_need_behind_small_talk_goes_first():
    message = classified("мне нечего есть", [("deny", 0.51), ("social_services", 0.35), ("housing", 0.04)])
    # the two swap places and confidences: the ranking stays in order for the FallbackClassifier
    assert message.get("intent") == {"name": "social_services", "confidence": 0.51}
    assert [(e["name"], e["confidence"]) for e in message.get("intent_ranking")] == [("social_services", 0.51), ("deny", 0.35), ("housing", 0.04)]


def test_short_small_talk_and_unlikely_needs_are_left_alone():
    assert classified("no thanks", [("deny", 0.6), ("housing", 0.3)]).get("intent")["name"] == "deny"  # two words
    assert classified("thank you very much", [("thanks", 0.9), ("housing", 0.05)]).get("intent")["name"] == "thanks"
    assert classified("where is the office", [("office_info", 0.5), ("housing", 0.4)]).get("intent")["name"] == "office_info"
