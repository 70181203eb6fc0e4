"""`acollida eval` on the shipped evaluation set, through the real assistant."""
from __future__ import annotations

import json
from pathlib import Path

from bot.cli import main
from bot.evaluation import CasesInvalid, read_cases

import pytest

CASES = Path("tests/eval/cases.jsonl")
# Floors for the reduced-epoch test model; the full model's figures are in the README.
FLOORS = {"language_accuracy": 0.95, "topic_accuracy": 0.85, "reply_language_accuracy": 0.98}


def test_shipped_evaluation_set_has_at_least_15_cases_per_language():
    from collections import Counter

    counts = Counter(case.language for case in read_cases(CASES))
    assert len(counts) == 12 and min(counts.values()) >= 15


def test_eval_reports_every_language_and_meets_the_floors(test_model, action_url, capsys):
    assert main(["eval", str(CASES), "--model", test_model, "--action-url", action_url, "--json"]) == 0
    # the JSON object is the command's last line; Rasa may print before it
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(summary) == {"cases", "language_accuracy", "topic_accuracy", "reply_language_accuracy", "per_language"}
    assert len(summary["per_language"]) == 12 and summary["cases"] == len(read_cases(CASES))
    for key, floor in FLOORS.items():
        assert summary[key] >= floor, (key, summary[key])


def test_eval_names_the_bad_line(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"text": "hola", "language": "es", "topic": "greet"}\n{"text": "x", "language": "de", "topic": "greet"}\n', encoding="utf-8")
    with pytest.raises(CasesInvalid, match=r"cases.jsonl:2"):
        read_cases(cases)
