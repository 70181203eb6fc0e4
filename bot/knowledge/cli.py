"""`acollida kb import|export|check` and `acollida db upgrade`."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from bot import settings
from bot.knowledge.check import check_pack
from bot.database.base import utcnow
from bot.database.schema import upgrade_schema
from bot.database.sessions import default_engine, session_scope
from bot.knowledge.export import write_pack
from bot.knowledge.pack import PackInvalid, load_pack
from bot.knowledge.store import OVERWRITE_FLAG, ConsoleChanges, read_content, record_export, replace_content


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="create or migrate the schema to the newest version").set_defaults(func=_upgrade)

    kb = subparsers.add_parser("kb", help="the knowledge base")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True)
    importer = kb_commands.add_parser(
        "import", help="validate a knowledge pack, then publish it: a new revision of each article it changes"
    )
    importer.add_argument("path", type=Path)
    importer.add_argument(
        OVERWRITE_FLAG,
        dest="overwrite_console_changes",
        action="store_true",
        help="import even though staff changed articles in the console since the last import or export",
    )
    importer.set_defaults(func=_import)
    exporter = kb_commands.add_parser("export", help="write the published knowledge as a knowledge pack")
    exporter.add_argument("path", type=Path)
    exporter.set_defaults(func=_export)
    checker = kb_commands.add_parser("check", help="list missing translations, stale reviews and broken references")
    checker.add_argument("path", type=Path)
    checker.add_argument("--max-age-days", type=int, help="flag articles reviewed longer ago (default: the pack's review_max_age_days)")
    checker.set_defaults(func=_check)


def _upgrade(args: argparse.Namespace) -> int:
    upgrade_schema()
    print(f"schema is up to date: {default_engine().url.render_as_string(hide_password=True)}")
    return 0


def _load_or_report(path: Path):
    try:
        return load_pack(path)
    except PackInvalid as invalid:
        print(f"{path}: {len(invalid.errors)} problem(s); nothing was changed", file=sys.stderr)
        for error in invalid.errors:
            print(f"  {error}", file=sys.stderr)
        return None


def _import(args: argparse.Namespace) -> int:
    pack = _load_or_report(args.path)
    if pack is None:
        return 1
    upgrade_schema()
    try:
        with session_scope() as session:
            report = replace_content(session, pack, overwrite_console_changes=args.overwrite_console_changes)
    except ConsoleChanges as changes:
        print(f"{args.path}: not imported; nothing was changed", file=sys.stderr)
        print(str(changes), file=sys.stderr)
        return 1
    print(
        f"imported {args.path}: {len(pack.topics)} topics, {len(pack.municipalities)} municipalities, "
        f"{len(pack.offices)} offices, {len(pack.articles)} articles "
        f"({len(report.changed)} new revisions, {len(report.withdrawn)} withdrawn)"
    )
    for key in report.withdrawn:
        print(f"  withdrawn, kept as a draft: {key}")
    return 0


def _export(args: argparse.Namespace) -> int:
    # Taken before reading: a revision saved while the files are written is not in them.
    started = utcnow()
    with session_scope() as session:
        try:
            pack = read_content(session)
        except LookupError as empty:
            print(str(empty), file=sys.stderr)
            return 1
    written = write_pack(pack, args.path)
    with session_scope() as session:
        record_export(session, started)
    print(f"exported {len(pack.articles)} articles to {args.path} ({len(written)} files)")
    return 0


def _check(args: argparse.Namespace) -> int:
    pack = _load_or_report(args.path)
    if pack is None:
        return 1
    max_age = args.max_age_days or settings.review_max_age_days(pack.review_max_age_days)
    findings = check_pack(pack, today=dt.date.today(), max_age_days=max_age)
    for finding in findings:
        print(finding)
    print(f"{args.path}: {len(findings)} finding(s)")
    return 1 if findings else 0
