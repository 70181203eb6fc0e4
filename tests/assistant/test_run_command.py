"""`acollida run` with a Telegram token: it says the gateway is ready only when it is.

The whole command runs as a user starts it (its own processes, on its fixed ports), against
the loopback Bot API stand-in, and against a Bot API that is not there.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot import stack
from bot.evaluation import free_port
from bot.texts import say
from tests.telegram.fake_bot_api import FakeBotAPI

ACOLLIDA = str(Path(sys.executable).with_name("acollida"))


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def run_environment(tmp_path, knowledge_url):
    for port in (stack.RASA_PORT, stack.ACTIONS_PORT):
        if _port_in_use(port):
            pytest.fail(f"port {port} is taken: stop the running assistant (acollida run) before the tests")
    environment = dict(os.environ)
    for name in ("TELEGRAM_MEDIATOR_CHAT_ID", "TELEGRAM_WEBHOOK_URL", "TRACKER_DATABASE_URL", "ACOLLIDA_ENDPOINTS"):
        environment.pop(name, None)
    environment.update(ACOLLIDA_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=knowledge_url)
    return environment


def _start(environment: dict[str, str], model: str) -> subprocess.Popen:
    return subprocess.Popen(
        [ACOLLIDA, "run", "--no-chat", "--model", model],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _read_until(process: subprocess.Popen, marker: str) -> list[str]:
    lines = []
    for line in process.stdout:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"`acollida run` ended before saying {marker!r}: {''.join(lines)}{process.stderr.read()}")


def test_run_says_the_gateway_is_ready_only_once_it_answers_newcomers(run_environment, test_model):
    fake = FakeBotAPI()
    fake.start()
    run_environment.update(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BASE_URL=fake.base_url)
    process = _start(run_environment, test_model)
    try:
        _read_until(process, "Telegram gateway ready")
        assert fake.calls_of("getMe") and fake.calls_of("getUpdates")  # it spoke to Telegram before saying so
        newcomer = fake.private_chat(5101, "Ana", language_code="es")
        fake.user_sends(newcomer, newcomer, "gracias")
        assert fake.wait_for(lambda: fake.texts_to(newcomer), timeout=60)[0] == say("thanks", "es")
    finally:
        _stop(process)
        fake.stop()
    assert not (Path(run_environment["ACOLLIDA_VAR_DIR"]) / "telegram.ready").exists()


def test_run_stops_and_says_why_when_telegram_cannot_be_reached(run_environment, test_model):
    run_environment.update(TELEGRAM_BOT_TOKEN="123456:TEST-TOKEN", TELEGRAM_BASE_URL=f"http://127.0.0.1:{free_port()}/bot")
    process = _start(run_environment, test_model)
    try:
        out, err = process.communicate(timeout=300)
    finally:
        _stop(process)
    assert process.returncode == 1
    assert "Telegram gateway ready" not in out
    assert "the Telegram gateway stopped while starting" in err and "telegram-" in err
    assert not _port_in_use(stack.RASA_PORT) and not _port_in_use(stack.ACTIONS_PORT)  # nothing left running
