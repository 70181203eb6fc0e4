"""`acollida run`: the action server, the Rasa server and the local chat, together.

Servers log to var/logs/; Ctrl-C (or leaving the chat) stops every process
started here.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import requests

from bot import logs, privacy, settings
from bot.local_chat import run_chat
from bot.telegram.app import check_ready
from bot.telegram.config import ConfigurationError
from bot.telegram.config import from_environment as telegram_configuration

RASA_PORT = 5005
ACTIONS_PORT = settings.ACTIONS_PORT


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="start the assistant (Rasa + actions) and chat with it here")
    run.add_argument("--model", default="models", help="a model file, or the folder whose newest model to load")
    run.add_argument("--no-chat", action="store_true", help="keep the servers running without opening the chat")
    run.add_argument("--language-code", default=None, help="the interface language Telegram would report")
    run.set_defaults(func=_run)


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.PROJECT_ROOT), environment.get("PYTHONPATH")]))
    environment.setdefault("DATABASE_URL", settings.database_url())
    # Rasa expands ${ACOLLIDA_VAR_DIR} and ${ACTION_ENDPOINT_URL} in the endpoints file as bot.settings does.
    environment.update(settings.rasa_environment())
    # The action server answers Rasa on this machine only (rasa_sdk listens on 0.0.0.0 unless told).
    environment.setdefault("SANIC_HOST", "127.0.0.1")
    return environment


def log_path(log_name: str) -> Path:
    return logs.DayFiles(settings.log_dir(), log_name).path()


def start(command: list[str], log_name: str) -> subprocess.Popen:
    # A new process group, so stopping it also stops what it spawns.
    process = subprocess.Popen(
        command, cwd=settings.PROJECT_ROOT, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    # Its output goes to one file per day, so that `privacy purge` can delete the days past the retention.
    threading.Thread(target=logs.DayFiles(settings.log_dir(), log_name).copy, args=(process.stdout,), daemon=True).start()
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_up(url: str, process: subprocess.Popen, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped while starting (exit code {process.returncode}); see var/logs/")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).ok:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s; see var/logs/")


def action_server_command(port: int) -> list[str]:
    return [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port), "--logging-config_file", str(logs.LOGGING_CONFIG)]


@contextlib.contextmanager
def action_server(port: int = ACTIONS_PORT) -> Iterator[str]:
    """A running action server; yields its webhook URL."""
    process = start(action_server_command(port), "actions")
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, "the action server")
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        stop(process)


def rasa_server_command(model: str, port: int, endpoints: str | None = None) -> list[str]:
    endpoints = endpoints or str(settings.endpoints_path())
    rasa = str(Path(sys.executable).with_name("rasa"))
    return [rasa, "run", "--enable-api", "--model", model, "--endpoints", endpoints, "--credentials", "credentials.yml", "--port", str(port), "--interface", "127.0.0.1", "--logging-config-file", str(logs.LOGGING_CONFIG)]


def gateway_command(ready_file: Path) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "telegram", "--ready-file", str(ready_file)]


def wait_until_ready(ready_file: Path, process: subprocess.Popen, what: str, log_name: str, timeout: float = 60) -> None:
    """Waits for the file a process writes once it works (the gateway: after Telegram answered)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped while starting (exit code {process.returncode}); see {log_path(log_name)}")
        if ready_file.is_file():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s (is Telegram, or TELEGRAM_BASE_URL, reachable?); see {log_path(log_name)}")


def gateway(ready_file: Path | None = None) -> subprocess.Popen:
    """The Telegram gateway, started and receiving updates."""
    ready_file = ready_file or settings.var_dir() / "telegram.ready"
    ready_file.unlink(missing_ok=True)
    process = start(gateway_command(ready_file), "telegram")
    try:
        wait_until_ready(ready_file, process, "the Telegram gateway", "telegram")
    except RuntimeError:
        stop(process)
        raise
    return process


PURGE_EVERY_SECONDS = 3600


def _purge_expired_conversations() -> None:
    deleted = privacy.purge_all(privacy.retention_days())
    if deleted:
        print(f"deleted {deleted} stored record(s) older than {privacy.retention_days()} days", flush=True)


def _purge_while_running(stopped: threading.Event) -> None:
    """Retention holds while the assistant runs for weeks, not only when it starts."""
    while not stopped.wait(PURGE_EVERY_SECONDS):
        try:
            _purge_expired_conversations()
        except Exception as error:  # a locked database must not stop the assistant; the next hour tries again
            print(f"the hourly purge failed ({type(error).__name__}); it runs again in an hour", file=sys.stderr, flush=True)


def _check_telegram_configuration() -> None:
    """With a token set, a wrong gateway configuration stops `acollida run` before anything starts."""
    if os.environ.get("TELEGRAM_BOT_TOKEN"):
        check_ready(telegram_configuration())


def _run(args: argparse.Namespace) -> int:
    processes: list[subprocess.Popen] = []
    try:
        settings.tracker_store()  # /forget and retention must find the store Rasa will write to
    except settings.SettingsError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    try:
        _check_telegram_configuration()
    except ConfigurationError as error:
        print(f"cannot start the Telegram gateway: {error}", file=sys.stderr)
        return 2
    _purge_expired_conversations()
    stopped = threading.Event()
    threading.Thread(target=_purge_while_running, args=(stopped,), daemon=True).start()
    try:
        with action_server():
            print("action server ready; starting Rasa (loading the model takes a moment)...", flush=True)
            rasa = start(rasa_server_command(args.model, RASA_PORT), "rasa")
            processes.append(rasa)
            wait_until_up(f"http://127.0.0.1:{RASA_PORT}/status", rasa, "the Rasa server")
            print(f"Rasa ready on http://127.0.0.1:{RASA_PORT} (logs in var/logs/)", flush=True)
            if os.environ.get("TELEGRAM_BOT_TOKEN"):
                processes.append(gateway())
                print(f"Telegram gateway ready: receiving updates (logs in {log_path('telegram')})", flush=True)
                if not args.no_chat:
                    print("the local chat is open too; Ctrl-C stops everything", flush=True)
            if args.no_chat:
                rasa.wait()
                return rasa.returncode or 0
            return run_chat(f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook", args.language_code)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(str(error), file=sys.stderr)
        return 1
    finally:
        stopped.set()
        for process in processes:
            stop(process)
