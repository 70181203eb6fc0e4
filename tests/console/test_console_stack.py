"""`acollida run` starts the console as one more supervised part, without Rasa here: the console's part alone, as a real process."""
from __future__ import annotations

import os
import signal
import socket
import time

import pytest
import requests

from bot import settings, stack
from bot.console.cli import FIRST_ACCOUNT_COMMAND
from bot.evaluation import free_port
from tests.console.staff_client import add_person


@pytest.fixture
def console_environment(monkeypatch, tmp_path, sqlite_url):
    port = free_port()
    monkeypatch.setenv("ACOLLIDA_CONSOLE_PORT", str(port))
    monkeypatch.setenv("ACOLLIDA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    for name in ("ACOLLIDA_CONSOLE_HOST", "ACOLLIDA_CONSOLE_ALLOWED_HOSTS", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return port


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_console_is_the_first_part_with_its_address_and_port_setting(console_environment):
    parts = stack._parts("models", 5005, 5055)
    console = parts[0]
    assert console.name == "staff console" and console.command[-2:] == ["bot.cli", "console"]
    assert console.where == f"on http://127.0.0.1:{console_environment}"
    assert (console_environment, "the staff console", "ACOLLIDA_CONSOLE_PORT") in stack._ports()


def test_the_health_check_names_an_allowed_host(console_environment, monkeypatch):
    monkeypatch.setenv("ACOLLIDA_CONSOLE_HOST", "0.0.0.0")
    monkeypatch.setenv("ACOLLIDA_CONSOLE_ALLOWED_HOSTS", "*.example.org,console.example.org")
    assert stack.console_probe() == (f"http://127.0.0.1:{console_environment}/health", "console.example.org")


def test_a_taken_console_port_stops_the_start_naming_the_setting(console_environment):
    with socket.socket() as other:
        other.bind(("127.0.0.1", console_environment))
        other.listen()
        problem = stack._taken_port_problem()
    assert f"port {console_environment} (the staff console, ACOLLIDA_CONSOLE_PORT)" in problem


def test_the_supervised_console_answers_is_restarted_when_killed_and_stops_with_the_stack(console_environment, capsys):
    part = stack._parts("models", free_port(), free_port())[0]
    supervisor = stack.Supervisor([part])
    supervisor.start()
    try:
        assert supervisor.settled.wait(60) and supervisor.failure is None
        url = f"http://127.0.0.1:{console_environment}/health"
        assert requests.get(url, timeout=5).json() == {"role": "console", "status": "ok"}
        first = part.process.pid
        os.killpg(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "staff console back up" not in capsys.readouterr().out:
            time.sleep(0.2)
        assert part.process.pid != first and requests.get(url, timeout=5).status_code == 200
    finally:
        supervisor.stop()
    assert not _listening(console_environment)


def test_with_no_staff_account_run_says_exactly_how_to_create_the_first(console_environment, sqlite_url, capsys):
    from bot.database.schema import upgrade_schema

    upgrade_schema(sqlite_url)
    stack.print_first_account_hint()
    assert f"`{FIRST_ACCOUNT_COMMAND}`" in capsys.readouterr().out
    assert FIRST_ACCOUNT_COMMAND == ".venv/bin/acollida staff add you@example.org --role admin --name You"
    add_person(sqlite_url, "admin")
    stack.print_first_account_hint()
    assert capsys.readouterr().out == ""
    assert settings.console_port() == console_environment
