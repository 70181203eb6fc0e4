"""`acollida console` (the staff console's web server) and `acollida staff add|list|remove`.

What the commands change is recorded in the audit log with the actor "command line".
"""
from __future__ import annotations

import argparse
import getpass
import sys

from bot import settings
from bot.console import accounts
from bot.console import config as console_config
from bot.console.models import ROLES
from bot.database.schema import upgrade_schema
from bot.database.sessions import engine_for, session_scope

FIRST_ACCOUNT_COMMAND = ".venv/bin/acollida staff add you@example.org --role admin --name You"


def register(subparsers: argparse._SubParsersAction) -> None:
    console = subparsers.add_parser("console", help="run the staff console (ACOLLIDA_CONSOLE_HOST, ACOLLIDA_CONSOLE_PORT)")
    console.set_defaults(func=_console)

    staff = subparsers.add_parser("staff", help="the staff console's accounts")
    commands = staff.add_subparsers(dest="staff_command", required=True)
    add = commands.add_parser("add", help="create a staff account (the password is asked twice)")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", required=True, help="as colleagues know them")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin, for scripts")
    add.set_defaults(func=_add)
    listing = commands.add_parser("list", help="the staff accounts")
    listing.set_defaults(func=_list)
    remove = commands.add_parser("remove", help="deactivate an account: it can no longer sign in; its audit entries stay")
    remove.add_argument("email")
    remove.set_defaults(func=_remove)


def _console(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.console.app import create_app

    try:
        config = console_config.from_settings()
        host, port = settings.console_host(), settings.console_port()
    except settings.SettingsError as error:
        print(f"cannot start the console: {error}", file=sys.stderr)
        return 2
    upgrade_schema(config.database_url)
    # uvicorn stops on SIGINT and SIGTERM after the requests under way; the access log names paths, never form contents.
    # No WebSockets: the console has none, and Rasa pins a websockets older than uvicorn's.
    uvicorn.run(create_app(config), host=host, port=port, ws="none", log_level="info", server_header=False)
    return 0


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password (at least 12 characters): ")
    if getpass.getpass("the same password again: ") != password:
        print("not added: the two passwords differ; run the command again", file=sys.stderr)
        return None
    return password


def _add(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    if password is None:
        return 2
    upgrade_schema()
    try:
        with session_scope(engine_for(settings.database_url())) as session:
            staff = accounts.create_account(session, None, email=args.email, name=args.name, role=args.role, password=password)
    except accounts.AccountProblems as error:
        for problem in error.problems:
            print(f"not added: {problem.field}: {problem.message}", file=sys.stderr)
        return 2
    print(f"added {staff.email} ({staff.name}) as {staff.role}; they sign in at http://{settings.console_host()}:{settings.console_port()}/sign-in")
    return 0


def _list(args: argparse.Namespace) -> int:
    upgrade_schema()
    with session_scope(engine_for(settings.database_url())) as session:
        listed = accounts.list_accounts(session)
    for staff in listed:
        last = staff.last_sign_in_at.isoformat(timespec="minutes") if staff.last_sign_in_at else "never signed in"
        print(f"{staff.email}\t{staff.name}\t{staff.role}\t{'active' if staff.active else 'deactivated'}\t{last}")
    if not listed:
        print(f"no staff accounts: create the first with `{FIRST_ACCOUNT_COMMAND}`", file=sys.stderr)
    return 0


def _remove(args: argparse.Namespace) -> int:
    upgrade_schema()
    try:
        with session_scope(engine_for(settings.database_url())) as session:
            account = accounts.by_email(session, args.email)
            if account is None:
                print(f"no staff account with the e-mail address {args.email}", file=sys.stderr)
                return 1
            staff = accounts.deactivate(session, None, account.id)
    except accounts.AccountProblems as error:
        print(f"not deactivated: {error.problems[0].message}", file=sys.stderr)
        return 2
    print(f"deactivated {staff.email} ({staff.name}): they can no longer sign in")
    return 0
