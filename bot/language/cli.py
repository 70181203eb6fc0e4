"""`acollida language detect` and `acollida language bench`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.language.bench import ROMANIZED_SAMPLES, format_report, format_romanized, run_bench, run_romanized
from bot.language.detector import detect


def register(subparsers: argparse._SubParsersAction) -> None:
    language = subparsers.add_parser("language", help="language detection")
    commands = language.add_subparsers(dest="language_command", required=True)

    detect_parser = commands.add_parser("detect", help="one text per line on stdin; prints its language code or und")
    detect_parser.add_argument("--hint", default=None, help="the interface language (Telegram's language_code), a prior")
    detect_parser.set_defaults(func=detect_lines)

    bench_parser = commands.add_parser("bench", help="accuracy, time and memory on a folder like shared/langid-testdata")
    bench_parser.add_argument("dir", type=Path, help="folder with single-words/, word-pairs/, sentences/ of <code>.txt")
    bench_parser.add_argument("--seed", type=int, default=0, help="seed of the 80 %%-right hints")
    bench_parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    bench_parser.add_argument(
        "--romanized", type=Path, default=ROMANIZED_SAMPLES, help="folder of <code>.txt typed in Latin letters (default: the shipped tests/language/romanized)"
    )
    bench_parser.set_defaults(func=bench_folder)


def detect_lines(args: argparse.Namespace) -> int:
    for line in sys.stdin:
        print(detect(line.rstrip("\n"), hint=args.hint).language, flush=True)
    return 0


def bench_folder(args: argparse.Namespace) -> int:
    if not args.dir.is_dir():
        print(f"{args.dir} is not a folder", file=sys.stderr)
        return 2
    try:
        report = run_bench(args.dir, seed=args.seed)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if args.romanized.is_dir():
        report["romanized"] = run_romanized(args.romanized)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
        if "romanized" in report:
            print("\n" + format_romanized(report["romanized"]))
    return 0
