"""Accounts without the web: argon2id hashes, password rules, the lock schedule, the audit log's one rule."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.console import accounts, audit
from bot.console.models import AuditEntry, StaffAccount
from bot.database.base import as_utc
from bot.database.sessions import engine_for, session_scope
from tests.console.staff_client import PASSWORD, add_person

NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.timezone.utc)


def test_passwords_are_kept_as_argon2id_hashes(console_db):
    person = add_person(console_db, "editor")
    with session_scope(engine_for(console_db)) as session:
        stored = session.get(StaffAccount, person.id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize("password, problem", [
    ("short", "at least 12 characters"),
    ("ana@example.org", "other than the e-mail address"),
    ("ANA@EXAMPLE.ORG ", "other than the e-mail address"),
    ("ana.garcia.ok", None),
])
def test_a_password_has_12_characters_and_is_not_the_email(password, problem):
    found = accounts.password_problem("Ana@example.org", password)
    assert (found is None) if problem is None else (problem in found)


def test_the_lock_lasts_1_2_4_minutes_and_so_on_from_the_fifth_failure_up_to_an_hour():
    minutes = [(accounts.lock_after(failures, NOW) - NOW).total_seconds() / 60 if accounts.lock_after(failures, NOW) else None
               for failures in range(1, 14)]
    assert minutes == [None, None, None, None, 1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_failures_in_a_row_are_stored_on_the_account_and_a_success_clears_them(console_db):
    person = add_person(console_db, "editor")
    unknown = accounts.UnknownEmails()
    engine = engine_for(console_db)
    for attempt in range(6):
        with session_scope(engine) as session:
            outcome = accounts.authenticate(session, person.email, "wrong password!", unknown, NOW + dt.timedelta(minutes=2 * attempt))
        assert outcome.account is None and outcome.refusal == accounts.SIGN_IN_REFUSED
    with session_scope(engine) as session:
        account = session.get(StaffAccount, person.id)
        assert account.failed_sign_ins == 6
        assert as_utc(account.locked_until) == NOW + dt.timedelta(minutes=10 + 2)  # the sixth failure, 10 min in: 2 minutes
        locks = session.query(AuditEntry).filter_by(action="staff.locked").count()
    assert locks == 2
    with session_scope(engine) as session:
        refused = accounts.authenticate(session, person.email, PASSWORD, unknown, NOW + dt.timedelta(minutes=11))
    assert refused.account is None and "Wait 1 minute," in refused.refusal  # even the right password waits
    with session_scope(engine) as session:
        signed = accounts.authenticate(session, person.email, PASSWORD, unknown, NOW + dt.timedelta(minutes=12, seconds=1))
    assert signed.account is not None and signed.account.id == person.id
    with session_scope(engine) as session:
        account = session.get(StaffAccount, person.id)
        assert (account.failed_sign_ins, account.locked_until) == (0, None)
        assert as_utc(account.last_sign_in_at) == NOW + dt.timedelta(minutes=12, seconds=1)


def test_unknown_addresses_are_throttled_alike_and_the_memory_for_them_is_bounded():
    unknown = accounts.UnknownEmails(capacity=3)
    for _ in range(5):
        unknown.failed("nobody@example.org", NOW)
    assert unknown.locked_until("nobody@example.org") == NOW + dt.timedelta(minutes=1)
    for number in range(10):
        unknown.failed(f"made-up-{number}@example.org", NOW)
    assert len(unknown) == 3
    assert unknown.locked_until("nobody@example.org") is None  # the oldest went first


def test_a_deactivated_account_is_refused_as_a_wrong_password_is(console_db):
    person = add_person(console_db, "editor")
    with session_scope(engine_for(console_db)) as session:
        session.get(StaffAccount, person.id).active = False
    with session_scope(engine_for(console_db)) as session:
        outcome = accounts.authenticate(session, person.email, PASSWORD, accounts.UnknownEmails(), NOW)
    assert outcome.account is None and outcome.refusal == accounts.SIGN_IN_REFUSED


def test_the_audit_log_refuses_a_password_in_its_detail(console_db):
    with session_scope(engine_for(console_db)) as session:
        with pytest.raises(ValueError, match="never holds a password"):
            audit.record(session, None, "staff.create", "staff 1", {"email": "a@example.org", "new_password": "x"})


def test_actions_from_the_command_line_are_recorded_as_such(console_db):
    person = add_person(console_db, "admin")
    with session_scope(engine_for(console_db)) as session:
        entries = audit.recent(session, 10)
    assert [(entry.actor, entry.action, entry.target) for entry in entries] == [("command line", "staff.create", f"staff {person.id}")]
    assert entries[0].detail == {"email": "admin@example.org", "name": "Admin", "role": "admin"}
