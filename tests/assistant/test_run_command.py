"""`acollida run` with a Telegram token: it says the gateway is ready only when it is.

The whole command runs as a user starts it (its own processes, on the ports of the settings,
free ones here), against the loopback Bot API stand-in, and against a Bot API that is not there.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from bot import settings
from bot.evaluation import free_port
from bot.texts import say
from tests.telegram.fake_bot_api import FakeBotAPI

ACOLLIDA = str(Path(sys.executable).with_name("acollida"))
# Loading the model takes Rasa most of a minute on a slow machine.
UP_TIMEOUT = 300
PORT_SETTINGS = ("ACOLLIDA_RASA_PORT", "ACOLLIDA_ACTIONS_PORT", "ACOLLIDA_GATEWAY_HEALTH_PORT", "ACOLLIDA_CONSOLE_PORT")


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def stack_ports() -> list[int]:
    return [settings.rasa_port(), settings.actions_port(), settings.gateway_health_port(), settings.console_port()]


@pytest.fixture
def run_environment(tmp_path, knowledge_url, monkeypatch):
    # Free ports, set where bot.settings reads them: the tests need neither 5005 nor 5055 free.
    for name in PORT_SETTINGS:
        monkeypatch.setenv(name, str(free_port()))
    environment = dict(os.environ)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_MEDIATOR_CHAT_ID", "TELEGRAM_WEBHOOK_URL", "TRACKER_DATABASE_URL", "ACOLLIDA_ENDPOINTS",
                 "RASA_URL", "ACTION_ENDPOINT_URL", "ACTION_HEALTH_URL"):
        environment.pop(name, None)
    environment.update(ACOLLIDA_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=knowledge_url)
    return environment


class RunningStack:
    """`acollida run` as a user starts it, its output read as it comes."""

    def __init__(self, environment: dict[str, str], model: str, *options: str) -> None:
        self.process = subprocess.Popen(
            [ACOLLIDA, "run", "--model", model, *options], env=environment,
            # The chat reads stdin: a pipe left open keeps it waiting for input.
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.lines: dict[str, list[str]] = {"out": [], "err": []}
        self._readers = [threading.Thread(target=self._read, args=(stream, name), daemon=True)
                         for stream, name in ((self.process.stdout, "out"), (self.process.stderr, "err"))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, name: str) -> None:
        for line in stream:
            self.lines[name].append(line)

    def output(self) -> str:
        return f"stdout:\n{''.join(self.lines['out'])}\nstderr:\n{''.join(self.lines['err'])}"

    def wait_for(self, marker: str, stream: str = "out", timeout: float = UP_TIMEOUT, after: int = 0) -> str:
        """The first line (from the `after`-th on) holding the marker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines[stream][after:] if marker in line]
            if found:
                return found[0]
            if self.process.poll() is not None and not any(reader.is_alive() for reader in self._readers):
                raise AssertionError(f"`acollida run` ended (code {self.process.returncode}) before saying {marker!r}:\n{self.output()}")
            time.sleep(0.2)
        raise AssertionError(f"`acollida run` did not say {marker!r} within {timeout:.0f} s:\n{self.output()}")

    def pids(self) -> dict[str, int]:
        """The pid of each part that said it is ready, by part."""
        return {match[1]: int(match[2]) for line in self.lines["out"] if (match := re.match(r"(.+) ready .*\(pid (\d+);", line))}

    def wait_until_up(self) -> dict[str, int]:
        self.wait_for("the assistant is up")
        return self.pids()

    def finish(self, timeout: float = 300) -> int:
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; then SIGKILL if it hangs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def test_run_says_the_gateway_is_ready_only_once_it_answers_newcomers(run_environment, test_model):
    fake = FakeBotAPI()
    fake.start()
    run_environment.update(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BASE_URL=fake.base_url)
    stack = RunningStack(run_environment, test_model, "--no-chat")
    try:
        stack.wait_for("Telegram gateway ready")
        assert fake.calls_of("getMe") and fake.calls_of("getUpdates")  # it spoke to Telegram before saying so
        assert requests.get(f"http://127.0.0.1:{settings.gateway_health_port()}/health", timeout=5).status_code == 200
        newcomer = fake.private_chat(5101, "Ana", language_code="es")
        fake.user_sends(newcomer, newcomer, "gracias")
        assert fake.wait_for(lambda: fake.texts_to(newcomer), timeout=60)[0] == say("thanks", "es")
    finally:
        stack.stop()
        fake.stop()
    assert not (Path(run_environment["ACOLLIDA_VAR_DIR"]) / "telegram.ready").exists()


def test_run_stops_and_says_why_when_telegram_cannot_be_reached(run_environment, test_model):
    run_environment.update(TELEGRAM_BOT_TOKEN="123456:TEST-TOKEN", TELEGRAM_BASE_URL=f"http://127.0.0.1:{free_port()}/bot")
    stack = RunningStack(run_environment, test_model, "--no-chat")
    try:
        code = stack.finish()
        started = stack.pids()
    finally:
        stack.stop()
    out, err = "".join(stack.lines["out"]), "".join(stack.lines["err"])
    assert code == 1
    assert "Telegram gateway ready" not in out
    assert "the Telegram gateway stopped while starting" in err and "telegram-" in err
    assert set(started) == {"action server", "Rasa server", "staff console"}
    assert all(group_gone(pgid) for pgid in started.values()) and not any(port_in_use(port) for port in stack_ports())  # nothing left running
