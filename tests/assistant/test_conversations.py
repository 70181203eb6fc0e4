"""Rasa's own conversation tests (tests/conversations/), run with `rasa test core`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_conversation_stories_pass(test_model, action_url, tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "{action_url}"\n', encoding="utf-8")
    rasa = str(Path(sys.executable).with_name("rasa"))
    result = subprocess.run(
        [rasa, "test", "core", "--model", test_model, "--stories", "tests/conversations", "--endpoints", str(endpoints),
         "--out", str(tmp_path / "results"), "--fail-on-prediction-errors"],
        capture_output=True, text=True, timeout=600,
    )
    failed = (tmp_path / "results" / "failed_test_stories.yml")
    assert result.returncode == 0, (failed.read_text(encoding="utf-8") if failed.exists() else "") + result.stdout[-3000:] + result.stderr[-3000:]
