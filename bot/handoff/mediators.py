"""The mediators: who they are on Telegram, the languages they speak, when they work.

`acollida mediators add|list|remove` is how the office registers them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.handoff import hours
from bot.handoff.models import Mediator
from bot.database.schema import upgrade_schema
from bot.database.sessions import session_scope
from bot.languages import normalise_code


def by_telegram_id(session: Session, telegram_user_id: int) -> Mediator | None:
    return session.execute(select(Mediator).where(Mediator.telegram_user_id == telegram_user_id)).scalar_one_or_none()


def all_mediators(session: Session) -> list[Mediator]:
    return list(session.execute(select(Mediator).order_by(Mediator.name, Mediator.id)).scalars())


def speakers_of(session: Session, language: str) -> list[Mediator]:
    return [mediator for mediator in all_mediators(session) if language in mediator.languages]


def on_duty(mediators: list[Mediator], moment: dt.datetime) -> list[Mediator]:
    return [mediator for mediator in mediators if hours.is_within(mediator.working_hours, moment)]


@dataclass(frozen=True)
class Registration:
    telegram_user_id: int
    name: str
    languages: list[str]
    working_hours: list[dict]


def read_registration(telegram_user_id: int, name: str, languages: str, working_hours: str) -> Registration:
    """Checks what staff typed; raises ValueError saying what to fix."""
    name = name.strip()
    if not name:
        raise ValueError("the name must not be empty: it is the first name newcomers see")
    # Mediators may speak languages the assistant does not (Tigrinya, Wolof...): any ISO code is welcome.
    codes = [normalise_code(code.strip()) or "" for code in languages.split(",") if code.strip()]
    unknown = [code for code in codes if not re.fullmatch(r"[a-z]{2,3}", code)]
    if not codes or unknown:
        raise ValueError(f"languages are ISO 639-1 codes separated by commas, like 'ar,fr,es' (not understood: {', '.join(unknown) or 'nothing given'})")
    try:
        periods = hours.parse_hours(working_hours)
    except hours.HoursInvalid as error:
        raise ValueError(str(error)) from error
    return Registration(telegram_user_id, name, list(dict.fromkeys(codes)), periods)


def register_mediator(session: Session, registration: Registration) -> Mediator:
    """Adds a mediator, or updates the one with that Telegram account."""
    mediator = by_telegram_id(session, registration.telegram_user_id) or Mediator(telegram_user_id=registration.telegram_user_id)
    mediator.name = registration.name
    mediator.languages = registration.languages
    mediator.working_hours = registration.working_hours
    session.add(mediator)
    session.flush()
    return mediator


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mediators", help="register the mediators who take conversations over")
    commands = parser.add_subparsers(dest="mediators_command", required=True)
    add = commands.add_parser("add", help="register a mediator (or update one)")
    add.add_argument("telegram_user_id", type=int, help="their numeric Telegram user id")
    add.add_argument("--name", required=True, help="first name shown to newcomers")
    add.add_argument("--languages", required=True, help="ISO 639-1 codes, e.g. ar,fr,es")
    add.add_argument("--hours", required=True, help="e.g. 'mon-fri 09:00-14:00; thu 16:00-19:00' (ACOLLIDA_TIMEZONE, default Europe/Madrid)")
    add.set_defaults(func=_add)
    listing = commands.add_parser("list", help="the registered mediators")
    listing.set_defaults(func=_list)
    remove = commands.add_parser("remove", help="unregister a mediator")
    remove.add_argument("telegram_user_id", type=int)
    remove.set_defaults(func=_remove)


def _add(args: argparse.Namespace) -> int:
    try:
        registration = read_registration(args.telegram_user_id, args.name, args.languages, args.hours)
    except ValueError as error:
        print(f"not registered: {error}", file=sys.stderr)
        return 2
    upgrade_schema()
    with session_scope() as session:
        mediator = register_mediator(session, registration)
        print(f"registered {mediator.name} (Telegram {mediator.telegram_user_id}): {', '.join(mediator.languages)}; {hours.format_hours(mediator.working_hours)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    upgrade_schema()
    with session_scope() as session:
        mediators = all_mediators(session)
        for mediator in mediators:
            print(f"{mediator.telegram_user_id}\t{mediator.name}\t{','.join(mediator.languages)}\t{hours.format_hours(mediator.working_hours)}")
        if not mediators:
            print("no mediators registered: add one with `acollida mediators add`", file=sys.stderr)
    return 0


def _remove(args: argparse.Namespace) -> int:
    upgrade_schema()
    with session_scope() as session:
        mediator = by_telegram_id(session, args.telegram_user_id)
        if mediator is None:
            print(f"no mediator with Telegram id {args.telegram_user_id}", file=sys.stderr)
            return 1
        session.delete(mediator)
        print(f"removed {mediator.name} (Telegram {args.telegram_user_id})")
    return 0
