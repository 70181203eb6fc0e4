"""`acollida staff add|list|remove`: accounts from the command line, recorded as the command line's."""
from __future__ import annotations

import io

import pytest

from bot.cli import main
from bot.console import accounts, audit
from bot.console.cli import FIRST_ACCOUNT_COMMAND
from bot.database.sessions import engine_for, session_scope

PASSWORD = "a password long enough"


@pytest.fixture
def staff_db(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ACOLLIDA_VAR_DIR", str(tmp_path / "var"))
    return database_url


def _stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _prompts(monkeypatch, *answers: str) -> list[str]:
    asked, replies = [], iter(answers)

    def getpass(prompt: str) -> str:
        asked.append(prompt)
        return next(replies)

    monkeypatch.setattr("bot.console.cli.getpass.getpass", getpass)
    return asked


def test_the_first_admin_is_added_with_a_password_asked_twice_and_recorded(staff_db, monkeypatch, capsys):
    asked = _prompts(monkeypatch, PASSWORD, PASSWORD)
    assert main(["staff", "add", "You@Example.org", "--role", "admin", "--name", "You"]) == 0
    assert len(asked) == 2
    assert "added you@example.org (You) as admin" in capsys.readouterr().out
    with session_scope(engine_for(staff_db)) as session:
        entry = audit.recent(session, 1)[0]
        signed = accounts.authenticate(session, "you@example.org", PASSWORD, accounts.UnknownEmails())
    assert (entry.actor, entry.action) == ("command line", "staff.create") and "password" not in str(entry.detail)
    assert signed.account is not None and signed.account.role == "admin"


def test_two_different_passwords_add_nothing(staff_db, monkeypatch, capsys):
    _prompts(monkeypatch, PASSWORD, PASSWORD + "!")
    assert main(["staff", "add", "you@example.org", "--role", "admin", "--name", "You"]) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    assert main(["staff", "list"]) == 0
    assert FIRST_ACCOUNT_COMMAND in capsys.readouterr().err


def test_a_script_gives_the_password_on_stdin_and_each_problem_is_named(staff_db, monkeypatch, capsys):
    _stdin(monkeypatch, "short\n")
    assert main(["staff", "add", "not-an-address", "--role", "editor", "--name", " ", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "not added: email: write a whole e-mail address" in err and "not added: name:" in err and "not added: password: use at least 12" in err
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["staff", "add", "ed@example.org", "--role", "editor", "--name", "Ed", "--password-stdin"]) == 0


def test_list_and_remove(staff_db, monkeypatch, capsys):
    for email, role in (("ad@example.org", "admin"), ("ed@example.org", "editor")):
        _stdin(monkeypatch, PASSWORD + "\n")
        main(["staff", "add", email, "--role", role, "--name", email.split("@")[0], "--password-stdin"])
    capsys.readouterr()
    assert main(["staff", "remove", "ED@example.org"]) == 0
    assert "deactivated ed@example.org (ed)" in capsys.readouterr().out
    assert main(["staff", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["ad@example.org\tad\tadmin\tactive\tnever signed in", "ed@example.org\ted\teditor\tdeactivated\tnever signed in"]
    assert main(["staff", "remove", "nobody@example.org"]) == 1
    assert main(["staff", "remove", "ad@example.org"]) == 2
    assert "ad@example.org is the only active admin" in capsys.readouterr().err
    with session_scope(engine_for(staff_db)) as session:
        assert [entry.actor for entry in audit.recent(session, 10)] == ["command line"] * 3
