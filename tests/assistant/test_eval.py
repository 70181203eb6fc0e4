"""`acollida eval` on the shipped evaluation set, through the real assistant."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.evaluation import CasesInvalid, read_cases
from bot.languages import LANGUAGE_CODES

CASES = Path("tests/eval/cases.jsonl")
# Floors for the reduced-epoch test model; the full model's figures are in the README.
FLOORS = {"language_accuracy": 0.95, "topic_accuracy": 0.85, "reply_language_accuracy": 0.98}


def test_shipped_evaluation_set_has_at_least_15_cases_per_language():
    from collections import Counter

    counts = Counter(case.language for case in read_cases(CASES))
    assert len(counts) == len(LANGUAGE_CODES) and min(counts.values()) >= 15


def test_eval_reports_every_language_and_meets_the_floors(test_model, action_url, capsys):
    assert main(["eval", str(CASES), "--model", test_model, "--action-url", action_url, "--json"]) == 0
    # the JSON object is the command's last line; Rasa may print before it
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(summary) == {
        "cases", "language_accuracy", "topic_accuracy", "reply_language_accuracy", "script_accuracy",
        "needs_answered_as_small_talk", "per_language", "needs_confusion", "has_script",
    }
    assert summary["needs_answered_as_small_talk"] == 0
    assert len(summary["per_language"]) == len(LANGUAGE_CODES) and summary["cases"] == len(read_cases(CASES))
    for key, floor in FLOORS.items():
        assert summary[key] >= floor, (key, summary[key])


def test_eval_names_the_bad_line(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"text": "hola", "language": "es", "topic": "greet"}\n{"text": "x", "language": "de", "topic": "greet"}\n', encoding="utf-8")
    with pytest.raises(CasesInvalid, match=r"cases.jsonl:2"):
        read_cases(cases)


PARAPHRASES, ROMANIZED = Path("tests/eval/paraphrases.jsonl"), Path("tests/eval/romanized.jsonl")
PARAPHRASE_TOPIC_FLOOR, ROMANIZED_TOPIC_FLOOR, ROMANIZED_LANGUAGE_FLOOR = 0.82, 0.83, 0.90
# Regression floors a little under what the shipped model measures (README, "Measured"); the
# issue's targets (paraphrases 0.97, romanized language 0.95 and topic 0.90) are reported there.
NEW_SET_FLOORS = {
    PARAPHRASES: {"topic_accuracy": PARAPHRASE_TOPIC_FLOOR, "language_accuracy": 0.95},
    ROMANIZED: {"topic_accuracy": ROMANIZED_TOPIC_FLOOR, "language_accuracy": ROMANIZED_LANGUAGE_FLOOR, "script_accuracy": ROMANIZED_LANGUAGE_FLOOR},
}


def test_paraphrases_and_romanized_messages_in_one_run_and_no_need_is_small_talk(test_model, action_url, capsys):
    assert main(["eval", str(PARAPHRASES), str(ROMANIZED), "--model", test_model, "--action-url", action_url, "--json"]) == 0
    summaries = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(summaries) == {str(PARAPHRASES), str(ROMANIZED)}
    for path, floors in NEW_SET_FLOORS.items():
        summary = summaries[str(path)]
        assert summary["needs_answered_as_small_talk"] == 0, path
        for key, floor in floors.items():
            assert summary[key] >= floor, (path, key, summary[key])
    assert set(summaries[str(ROMANIZED)]["per_language"]) == {"ur", "ar", "el", "ru", "uk"}


def test_the_confusion_table_counts_needs_answered_as_small_talk():
    from bot.evaluation import Case, Outcome, format_table, summarise

    def outcome(topic: str, answered: str | None) -> Outcome:
        return Outcome(Case("x", "en", topic, ("en",), 1), "en", answered, ["en"])

    summary = summarise([outcome("housing", "housing"), outcome("housing", "goodbye"), outcome("social_services", "deny"),
                         outcome("social_services", "fallback"), outcome("greet", "greet")])
    assert summary["needs_answered_as_small_talk"] == 2
    assert summary["needs_confusion"]["housing"]["right topic"] == 1 and summary["needs_confusion"]["housing"]["small talk"] == 1
    assert summary["needs_confusion"]["social_services"]["search or not understood"] == 1
    assert "school_enrollment" not in summary["needs_confusion"]  # no case of it: no row
    assert "needs answered as small talk: 2" in format_table(summary)


def test_a_romanized_case_must_be_detected_in_latin_script(tmp_path):
    from bot.evaluation import Outcome

    cases = tmp_path / "romanized.jsonl"
    cases.write_text('{"text": "mujhe kaam chahiye", "language": "ur", "topic": "employment", "script": "Latin"}\n', encoding="utf-8")
    case = read_cases(cases)[0]
    assert case.script == "Latin"
    assert Outcome(case, "ur", "employment", ["ur"], detected_script="Latin", message_language="ur").script_ok
    assert not Outcome(case, "ur", "employment", ["ur"], detected_script="Arabic", message_language="ur").script_ok
    assert not Outcome(case, "ur", "employment", ["ur"], detected_script="Latin", message_language="en").script_ok
