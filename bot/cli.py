"""The `acollida` command."""
from __future__ import annotations

import argparse
import logging
import sys

from bot import evaluation, local_chat, logs, parse_bench, privacy, stack
from bot.console import cli as console_cli
from bot.handoff import mediators
from bot.knowledge import cli as knowledge_cli
from bot.language import cli as language_cli
from bot.telegram import app as telegram_app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acollida", description="Acollida, the first-welcome assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (message text is withheld at every level)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    knowledge_cli.register(subparsers)
    language_cli.register(subparsers)
    evaluation.register(subparsers)
    parse_bench.register(subparsers)
    local_chat.register(subparsers)
    stack.register(subparsers)
    privacy.register(subparsers)
    mediators.register(subparsers)
    telegram_app.register(subparsers)
    console_cli.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.install(logging.DEBUG if args.verbose else logging.WARNING)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
