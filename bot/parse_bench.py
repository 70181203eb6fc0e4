"""`acollida parse-bench`: how fast the Rasa server understands a message, and what it holds in memory.

It starts `rasa run --enable-api` with the model, as `acollida run` does, and
times `POST /model/parse` (language detection, tokenizer, featurizers, intent
classifier) on the texts of the evaluation sets, one at a time, after a
warm-up. The server's resident memory is read from /proc once it is loaded
and warmed up, and again after the timed parses.
The targets the README names are checked here, not in timed tests.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import requests

from bot.evaluation import free_port, read_cases

DEFAULT_SETS = ("tests/eval/cases.jsonl", "tests/eval/paraphrases.jsonl", "tests/eval/romanized.jsonl")
WARM_UP = 20


def resident_mb(pid: int) -> float:
    """Resident memory of one process (`rasa run` serves from a single process)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(model: str, files: list[Path]) -> dict:
    from bot.stack import rasa_server_command, start, stop, wait_until_up

    texts = [case.text for path in files for case in read_cases(path)]
    port = free_port()
    process = start(rasa_server_command(model, port), f"parse-bench-{port}")
    try:
        started = time.perf_counter()
        wait_until_up(f"http://127.0.0.1:{port}/status", process, "the Rasa server")
        loaded_seconds = time.perf_counter() - started
        url = f"http://127.0.0.1:{port}/model/parse"
        with requests.Session() as http:
            for text in texts[:WARM_UP]:
                http.post(url, json={"text": text}, timeout=60).raise_for_status()
            after_load = resident_mb(process.pid)
            times = []
            for text in texts:
                began = time.perf_counter()
                http.post(url, json={"text": text}, timeout=60).raise_for_status()
                times.append(1000 * (time.perf_counter() - began))
        after_parses = resident_mb(process.pid)
    finally:
        stop(process)
    times.sort()
    return {
        "model": model,
        "texts": len(texts),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "max_ms": round(times[-1], 2),
        "server_resident_mb_after_load": round(after_load, 1),
        "server_resident_mb_after_parses": round(after_parses, 1),
        "seconds_to_ready": round(loaded_seconds, 1),
    }


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("parse-bench", help="NLU parse latency and the Rasa server's memory, on the evaluation texts")
    parser.add_argument("--model", default="models/acollida.tar.gz")
    parser.add_argument("files", nargs="*", type=Path, default=[Path(p) for p in DEFAULT_SETS], metavar="FILE")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        print(f"no such case file: {', '.join(missing)}", file=sys.stderr)
        return 2
    report = run(args.model, args.files)
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"{report['texts']} texts through POST /model/parse: median {report['median_ms']} ms, p95 {report['p95_ms']} ms, "
            f"max {report['max_ms']} ms\nRasa server resident memory: {report['server_resident_mb_after_load']} MB after loading, "
            f"{report['server_resident_mb_after_parses']} MB after the parses (ready in {report['seconds_to_ready']} s)"
        )
    return 0
