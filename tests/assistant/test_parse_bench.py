"""`acollida parse-bench` reports parse latency and server memory for the trained model."""
from __future__ import annotations

import json

from bot.cli import main


def test_parse_bench_times_every_text_and_reads_the_servers_memory(test_model, tmp_path, capsys):
    cases = tmp_path / "cases.jsonl"
    lines = ['{"text": "necesito el padrón", "language": "es", "topic": "municipal_registration"}',
             '{"text": "mujhe kaam chahiye", "language": "ur", "topic": "employment"}',
             '{"text": "Мені ніде жити", "language": "uk", "topic": "housing"}']
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["parse-bench", "--model", test_model, "--json", str(cases)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["texts"] == 3
    assert 0 < report["median_ms"] <= report["p95_ms"] <= report["max_ms"]
    assert report["server_resident_mb_after_load"] > 100  # a Rasa server with its models, not an empty process


def test_parse_bench_names_a_missing_file(capsys):
    assert main(["parse-bench", "no/such.jsonl"]) == 2
    assert "no such case file: no/such.jsonl" in capsys.readouterr().err
