"""`acollida run` keeps its parts up and stops all of them, whatever stops it.

Real processes, as a user starts them (see test_run_command.py): SIGTERM and SIGHUP stop
every child as Ctrl-C does, a part that dies is restarted and said so, and a port already
taken stops the start before anything runs.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from bot import settings, stack
from tests.assistant.test_run_command import RunningStack, group_gone, port_in_use, run_environment, stack_ports  # noqa: F401


def _assert_nothing_left(pgids) -> None:
    assert all(group_gone(pgid) for pgid in pgids), [pgid for pgid in pgids if not group_gone(pgid)]
    assert not any(port_in_use(port) for port in stack_ports())


def test_a_killed_part_is_restarted_and_sigterm_then_stops_every_part(run_environment, test_model):
    running = RunningStack(run_environment, test_model, "--no-chat")
    try:
        pids = running.wait_until_up()
        assert set(pids) == {"action server", "Rasa server", "staff console"}
        assert f"logs in {Path(run_environment['ACOLLIDA_VAR_DIR']).resolve() / 'logs'}" in "".join(running.lines["out"])
        os.killpg(pids["action server"], signal.SIGKILL)
        exited = running.wait_for("the action server exited", stream="err", timeout=30)
        assert "killed by SIGKILL" in exited and "actions-" in exited and "restarting it in 1 s" in exited
        back = running.wait_for("action server back up", timeout=120)
        new_pid = int(re.search(r"\(pid (\d+)\)", back)[1])
        assert new_pid != pids["action server"]
        assert requests.get(f"http://127.0.0.1:{settings.actions_port()}/health", timeout=5).status_code == 200
        # Only the stack's own process gets it, as from `kill PID` or a service manager.
        running.process.send_signal(signal.SIGTERM)
        assert running.finish(timeout=60) == 0
    finally:
        running.stop()
    _assert_nothing_left([*pids.values(), new_pid])


def test_sighup_stops_every_part_while_the_chat_waits_for_input(run_environment, test_model):
    running = RunningStack(run_environment, test_model)
    try:
        pids = running.wait_until_up()
        running.wait_for("local chat")
        time.sleep(1)  # in input() by now
        running.process.send_signal(signal.SIGHUP)
        assert running.finish(timeout=60) == 0
    finally:
        running.stop()
    _assert_nothing_left(pids.values())


def test_sigterm_while_rasa_loads_stops_what_already_runs(run_environment, test_model):
    running = RunningStack(run_environment, test_model, "--no-chat")
    try:
        actions = running.wait_for("action server ready", timeout=120)
        running.wait_for("starting the Rasa server")
        running.process.send_signal(signal.SIGTERM)
        assert running.finish(timeout=60) == 0
    finally:
        running.stop()
    assert "Rasa server ready" not in "".join(running.lines["out"])
    _assert_nothing_left([int(re.search(r"\(pid (\d+);", actions)[1])])


@pytest.mark.parametrize("setting", ["ACOLLIDA_ACTIONS_PORT", "ACOLLIDA_RASA_PORT"])
def test_a_port_already_taken_stops_the_start_before_anything_runs(run_environment, test_model, setting):
    port = int(run_environment[setting])
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        running = RunningStack(run_environment, test_model, "--no-chat")
        try:
            code = running.finish(timeout=120)
        finally:
            running.stop()
        ports = [p for p in stack_ports() if p != port]
        assert not any(port_in_use(p) for p in ports)
    assert code == 2
    assert f"port {port}" in "".join(running.lines["err"]) and setting in "".join(running.lines["err"])
    assert "starting" not in "".join(running.lines["out"])


def test_restarts_wait_longer_each_time_and_from_1_s_again_after_a_long_stay_up():
    part = stack.Part("action server", "actions", ["true"], lambda: True, "on nowhere")
    assert [part.restart_delay() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    part.up_since = time.monotonic() - stack.STAYED_UP_SECONDS
    assert part.restart_delay() == 1
    part.up_since = time.monotonic()
    assert part.restart_delay() == 2  # it failed again soon after coming back up
