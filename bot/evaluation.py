"""`acollida eval FILE`: measuring the whole assistant on first messages.

Each case runs as the first message of a fresh conversation through the real
trained model (NLU and policies) and the real actions and knowledge base, the
action server started here for the run. It measures what a newcomer gets:
the language the conversation takes, the topic of the answer, and the
language the replies are written in.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.languages import UNDETERMINED, is_supported
from bot.needs import NEED_INTENTS, SMALL_TALK_INTENTS

NON_TOPIC_ANSWERS = ("handoff", "greet", "goodbye", "thanks", "out_of_scope")
# The columns of the confusion table, in order: the answer a need got, grouped.
CONFUSION_COLUMNS = ("right topic", "other topic", "search or not understood", "handoff", "language menu", "small talk")


@dataclass(frozen=True)
class Case:
    text: str
    language: str
    topic: str
    languages: tuple[str, ...]
    line: int
    script: str | None = None  # "Latin" for a romanized case: the detector must say so


@dataclass
class Outcome:
    case: Case
    detected_language: str
    answered: str | None
    reply_languages: list[str]
    detected_script: str | None = None
    message_language: str | None = None  # what the detector said of this message (the conversation may differ)

    @property
    def script_ok(self) -> bool:
        """For a romanized case: the message was read as its language written in that script."""
        return self.case.script is None or (self.detected_script == self.case.script and self.message_language in self.case.languages)

    @property
    def brushed_off(self) -> bool:
        """A need answered as small talk: the failure that must never happen."""
        return self.case.topic in NEED_INTENTS and self.answered in SMALL_TALK_INTENTS

    @property
    def answer_group(self) -> str:
        if self.answered == self.case.topic:
            return "right topic"
        if self.answered in SMALL_TALK_INTENTS:
            return "small talk"
        if self.answered == "handoff":
            return "handoff"
        if self.answered in ("choose_language", "language_unsupported"):
            return "language menu"
        if self.answered in (None, "fallback", "no_text"):
            return "search or not understood"
        return "other topic"

    @property
    def language_ok(self) -> bool:
        return self.detected_language in self.case.languages

    @property
    def topic_ok(self) -> bool:
        return self.answered == self.case.topic

    @property
    def reply_language_ok(self) -> bool:
        return bool(self.reply_languages) and all(code in self.case.languages for code in self.reply_languages)


@dataclass
class Tally:
    cases: int = 0
    language: int = 0
    topic: int = 0
    reply_language: int = 0
    script: int = 0
    brushed_off: int = 0
    misses: list[dict] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.cases += 1
        self.language += outcome.language_ok
        self.topic += outcome.topic_ok
        self.reply_language += outcome.reply_language_ok
        self.script += outcome.script_ok
        self.brushed_off += outcome.brushed_off

    def as_dict(self) -> dict[str, Any]:
        share = (lambda n: round(n / self.cases, 4)) if self.cases else (lambda n: 0.0)
        return {
            "cases": self.cases,
            "language_accuracy": share(self.language),
            "topic_accuracy": share(self.topic),
            "reply_language_accuracy": share(self.reply_language),
            "script_accuracy": share(self.script),
            "needs_answered_as_small_talk": self.brushed_off,
        }


class CasesInvalid(ValueError):
    pass


def read_cases(path: Path) -> list[Case]:
    cases, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            text, language, topic = data["text"], data["language"], data["topic"]
            accepted = tuple(data.get("languages") or [language])
            if not isinstance(text, str) or not is_supported(language) or not isinstance(topic, str):
                raise ValueError("text must be a string, language a supported code, topic a string")
            if language not in accepted:
                accepted = (language, *accepted)
            script = data.get("script")
            if script is not None and not isinstance(script, str):
                raise ValueError("script, when given, must be a script name such as \"Latin\"")
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            problems.append(f"{path}:{number}: {error.__class__.__name__}: {error}")
            continue
        cases.append(Case(text=text, language=language, topic=topic, languages=accepted, line=number, script=script))
    if problems:
        raise CasesInvalid("\n".join(problems))
    return cases


def outcome_from_events(case: Case, events: list[dict]) -> Outcome:
    """What the assistant did with the case, read from its tracker events."""
    language = script = message_language = None
    answers, reply_languages = [], []
    for event in events:
        if event.get("event") == "user" and script is None:
            detection = (event.get("parse_data") or {}).get("language") or {}
            script, message_language = detection.get("script"), detection.get("language")
        if event.get("event") == "slot" and event.get("name") == "language":
            language = event.get("value")
        if event.get("event") == "bot":
            metadata = event.get("metadata") or {}
            answers.append(metadata.get("answer"))
            reply_languages.append(metadata.get("language") or UNDETERMINED)
    return Outcome(case=case, detected_language=language or UNDETERMINED, answered=answers[0] if answers else None, reply_languages=reply_languages, detected_script=script, message_language=message_language)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def run_cases(cases: list[Case], model: str, action_url: str) -> list[Outcome]:
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    agent = await load_agent(model_path=model, endpoints=AvailableEndpoints(action=EndpointConfig(url=action_url)))
    outcomes = []
    for index, case in enumerate(cases):
        sender = f"eval-{index}"
        await agent.handle_message(UserMessage(case.text, CollectingOutputChannel(), sender, metadata={}))
        tracker = await agent.tracker_store.retrieve(sender)
        outcomes.append(outcome_from_events(case, [event.as_dict() for event in tracker.events]))
    return outcomes


def evaluate(cases: list[Case], model: str, action_url: str | None = None) -> list[Outcome]:
    from bot.stack import action_server

    if action_url:
        return asyncio.run(run_cases(cases, model, action_url))
    with action_server(free_port()) as url:
        return asyncio.run(run_cases(cases, model, url))


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    overall, per_language = Tally(), defaultdict(Tally)
    for outcome in outcomes:
        overall.add(outcome)
        per_language[outcome.case.language].add(outcome)
    summary = overall.as_dict()
    summary["per_language"] = {code: tally.as_dict() for code, tally in sorted(per_language.items())}
    summary["has_script"] = any(o.case.script for o in outcomes)
    summary["needs_confusion"] = {
        topic: {column: sum(1 for o in outcomes if o.case.topic == topic and o.answer_group == column) for column in CONFUSION_COLUMNS}
        for topic in NEED_INTENTS
        if any(o.case.topic == topic for o in outcomes)
    }
    summary["misses"] = [
        {
            "line": o.case.line,
            "language": o.case.language,
            "expected_topic": o.case.topic,
            "answered": o.answered,
            "detected_language": o.detected_language,
            "reply_languages": sorted(set(o.reply_languages)),
            "detected_script": o.detected_script,
        }
        for o in outcomes
        if not (o.language_ok and o.topic_ok and o.reply_language_ok and o.script_ok)
    ]
    return summary


def format_table(summary: dict[str, Any]) -> str:
    rows = [("language", "cases", "language", "topic", "reply language")]
    for code, figures in summary["per_language"].items():
        rows.append((code, str(figures["cases"]), *(f"{figures[k]:.3f}" for k in ("language_accuracy", "topic_accuracy", "reply_language_accuracy"))))
    rows.append(("overall", str(summary["cases"]), *(f"{summary[k]:.3f}" for k in ("language_accuracy", "topic_accuracy", "reply_language_accuracy"))))
    table = _markdown(rows)
    if summary.get("has_script"):
        table += f"\nscript recorded right: {summary['script_accuracy']:.3f}"
    confusion = [("need answered as", *CONFUSION_COLUMNS)]
    confusion += [(topic, *(str(counts[column]) for column in CONFUSION_COLUMNS)) for topic, counts in summary["needs_confusion"].items()]
    if len(confusion) > 1:
        table += "\n\n" + _markdown(confusion)
    table += f"\n\nneeds answered as small talk: {summary['needs_answered_as_small_talk']}"
    return table


def _markdown(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="measure the trained assistant on first messages (JSON lines)")
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="one or more case files (JSON lines)")
    parser.add_argument("--model", default="models", help="a model file, or the folder whose newest model to load")
    parser.add_argument("--action-url", default=None, help="use this running action server instead of starting one")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--misses", action="store_true", help="also list the cases that went wrong")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        sets = {path: read_cases(path) for path in args.files}  # every file checked before the model loads
    except (OSError, CasesInvalid) as error:
        print(str(error), file=sys.stderr)
        return 2
    logging.getLogger("rasa").setLevel(logging.ERROR)
    everything = [case for cases in sets.values() for case in cases]
    outcomes = evaluate(everything, args.model, args.action_url)
    summaries, start = {}, 0
    for path, cases in sets.items():
        summaries[str(path)] = summarise(outcomes[start : start + len(cases)])
        start += len(cases)
    if args.json:
        for summary in summaries.values():
            if not args.misses:
                summary.pop("misses")
        print(json.dumps(summaries if len(summaries) > 1 else next(iter(summaries.values())), ensure_ascii=False))
        return 0
    for path, summary in summaries.items():
        if len(summaries) > 1:
            print(f"## {path}\n")
        print(format_table(summary))
        if args.misses:
            for miss in summary["misses"]:
                print(json.dumps(miss, ensure_ascii=False))
        print()
    return 0
