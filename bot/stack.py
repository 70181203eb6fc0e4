"""`acollida run`: the staff console, the action server, the Rasa server, the Telegram gateway (with a token) and the local chat, together.

A supervisor starts each part, says it is ready only once it answers, and restarts
a part that exits, with backoff. Ctrl-C, SIGTERM and SIGHUP (or leaving the chat)
stop every process started here. Servers log to the log folder of bot.settings.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import requests

from bot import logs, privacy, settings
from bot.console import accounts as staff_accounts
from bot.console import config as console_config
from bot.console.cli import FIRST_ACCOUNT_COMMAND
from bot.database.sessions import engine_for, session_scope
from bot.local_chat import run_chat
from bot.telegram.app import check_ready
from bot.telegram.config import ConfigurationError
from bot.telegram.config import from_environment as telegram_configuration

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_GRACE_SECONDS = 15
SERVER_START_TIMEOUT = 300
GATEWAY_START_TIMEOUT = 60
TELEGRAM_HINT = " (is Telegram, or TELEGRAM_BASE_URL, reachable?)"
MAX_RESTART_DELAY = 60
# A part that stayed up this long failed for a new reason: its next restart waits 1 s again.
STAYED_UP_SECONDS = 300


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


def _signal_group(process: subprocess.Popen, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, number)


def stop_all(processes: list[subprocess.Popen], grace: float = STOP_GRACE_SECONDS) -> None:
    """Stops each process's group: SIGTERM to all at once, SIGKILL to what is left after the grace period."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        # Also when the leader exited: what it spawned may still run, holding its port.
        _signal_group(process, signal.SIGKILL)
        process.wait()


def stop(process: subprocess.Popen) -> None:
    stop_all([process])


def _answers(url: str, host: str | None = None) -> bool:
    """GET url answers 200; `host` is the Host header, for a server that answers only to its own names."""
    with contextlib.suppress(requests.RequestException):
        return requests.get(url, timeout=2, headers={"Host": host} if host else None).status_code == 200
    return False


def _wait_for(
    answers: Callable[[], bool], process: subprocess.Popen, what: str, log: Path, timeout: float,
    stopping: threading.Event | None = None, hint: str = "",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stopping is not None and stopping.is_set():
            raise RuntimeError(f"{what} was stopping while starting")
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped while starting ({_exit_description(process.returncode)}); see {log}")
        if answers():
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer within {timeout:.0f} s{hint}; see {log}")


def wait_until_up(url: str, process: subprocess.Popen, what: str, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Waits until GET url answers 200; RuntimeError when the process exits first or the time is up."""
    _wait_for(lambda: _answers(url), process, what, settings.log_dir(), timeout)


def _exit_description(code: int) -> str:
    if code >= 0:
        return f"exit code {code}"
    with contextlib.suppress(ValueError):  # real-time signals have no name
        return f"killed by {signal.Signals(-code).name}"
    return f"killed by signal {-code}"


def action_server_command(port: int) -> list[str]:
    return [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port), "--logging-config_file", str(logs.LOGGING_CONFIG)]


@contextlib.contextmanager
def action_server(port: int | None = None) -> Iterator[str]:
    """A running action server (on the port of the settings unless told); yields its webhook URL."""
    port = port or settings.actions_port()
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


def console_command() -> list[str]:
    return [sys.executable, "-m", "bot.cli", "console"]


def console_probe() -> tuple[str, str]:
    """(the URL of the console's /health, the Host header to send): it answers only to its allowed hosts."""
    host = settings.console_host()
    # A console listening on every address answers on loopback too.
    address = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    address = f"[{address}]" if ":" in address else address
    named = [name for name in settings.console_allowed_hosts() if "*" not in name]
    return f"http://{address}:{settings.console_port()}/health", named[0] if named else address


def wait_until_ready(ready_file: Path, process: subprocess.Popen, what: str, log_name: str, timeout: float = GATEWAY_START_TIMEOUT) -> None:
    """Waits for the file a process writes once it works (the gateway: after Telegram answered)."""
    _wait_for(ready_file.is_file, process, what, log_path(log_name), timeout, hint=TELEGRAM_HINT)


# --- the supervisor ----------------------------------------------------------------------------


@dataclass
class Part:
    """One process of the stack: how to start it, how to tell it is up, and its restarts."""

    name: str  # "action server": "action server ready", "the action server exited"
    log_name: str
    command: list[str]
    answers: Callable[[], bool]
    where: str  # what "ready" means, for the operator: where it answers
    start_timeout: float = SERVER_START_TIMEOUT
    before_start: Callable[[], None] = lambda: None
    timeout_hint: str = ""  # what to check when it does not answer in time
    process: subprocess.Popen | None = None
    up_since: float | None = None
    failures: int = 0
    # Held while the process is replaced, so that stopping the stack never misses a restarted one.
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def what(self) -> str:
        return f"the {self.name}"

    def restart_delay(self) -> float:
        """1, 2, 4 … 60 s between the restarts of a part that keeps failing."""
        if self.up_since is not None and time.monotonic() - self.up_since >= STAYED_UP_SECONDS:
            self.failures = 0
        delay = min(MAX_RESTART_DELAY, 2 ** min(self.failures, 6))
        self.failures += 1
        return delay


class Supervisor:
    """Brings the parts up in order and keeps them up until the stack stops.

    Its thread is no daemon: whatever ends the main thread, the interpreter waits
    for it to stop every child, so none is left running (orphaned, holding its port).
    """

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        self.stopping = threading.Event()
        self.settled = threading.Event()  # every part is up, or one did not come up
        self.failure: str | None = None
        self._thread = threading.Thread(target=self._run, name="supervisor")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.ident is not None:  # a signal may come before it started
            self._thread.join()

    def _run(self) -> None:
        try:
            self._bring_up()
            self.stopping.wait()
        finally:
            self._stop_children()

    def _bring_up(self) -> None:
        try:
            for part in self.parts:
                print(f"starting the {part.name}...", flush=True)
                self._start(part)
                print(f"{part.name} ready {part.where} (pid {part.process.pid}; log {log_path(part.log_name)})", flush=True)
                threading.Thread(target=self._keep_up, args=(part,), name=f"keep up {part.name}", daemon=True).start()
        except RuntimeError as error:
            if not self.stopping.is_set():
                self.failure = str(error)
        finally:
            self.settled.set()

    def _start(self, part: Part) -> None:
        """Starts the part and waits until it answers; RuntimeError naming its log when it does not."""
        with part.lock:
            if self.stopping.is_set():
                raise RuntimeError(f"{part.what} was not started: stopping")
            part.before_start()
            part.up_since = None
            try:
                part.process = start(part.command, part.log_name)
            except OSError as error:
                raise RuntimeError(f"cannot start {part.what}: {error}") from error
        try:
            _wait_for(part.answers, part.process, part.what, log_path(part.log_name), part.start_timeout, self.stopping, part.timeout_hint)
        except RuntimeError:
            stop(part.process)  # one that runs without answering is not left behind
            raise
        part.up_since = time.monotonic()

    def _keep_up(self, part: Part) -> None:
        """Restarts the part each time it exits, until the stack stops."""
        while True:
            code = part.process.wait()
            if self.stopping.is_set():
                return
            stop(part.process)  # what it spawned may still hold its port
            delay = part.restart_delay()
            print(
                f"{part.what} exited ({_exit_description(code)}); see {log_path(part.log_name)}; restarting it in {delay} s",
                file=sys.stderr, flush=True,
            )
            if self.stopping.wait(delay):
                return
            try:
                self._start(part)
            except RuntimeError as error:
                if self.stopping.is_set():
                    return
                print(str(error), file=sys.stderr, flush=True)
                continue
            print(f"{part.name} back up {part.where} (pid {part.process.pid})", flush=True)

    def _stop_children(self) -> None:
        self.stopping.set()
        processes = []
        for part in self.parts:
            with part.lock:
                if part.process is not None:
                    processes.append(part.process)
        stop_all(processes)


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        # A port the last run left in TIME_WAIT is free; one something listens on is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _gateway_answers(ready_file: Path, health_port: int) -> bool:
    """Up once it wrote its ready file (Telegram answered, updates arrive) and its /health answers.

    A gateway that serves no /health yet (nothing listens on its port) is judged by its ready file alone.
    """
    if not ready_file.is_file():
        return False
    return not _listening(health_port) or _answers(f"http://127.0.0.1:{health_port}/health")


def _parts(model: str, rasa_port: int, actions_port: int) -> list[Part]:
    health_url, health_host = console_probe()
    parts = [
        # First: it starts in a second and migrates the schema, and staff can work while Rasa loads.
        Part("staff console", "console", console_command(), lambda: _answers(health_url, health_host),
             f"on http://{settings.console_host()}:{settings.console_port()}"),
        Part("action server", "actions", action_server_command(actions_port),
             lambda: _answers(f"http://127.0.0.1:{actions_port}/health"), f"on http://127.0.0.1:{actions_port}"),
        Part("Rasa server", "rasa", rasa_server_command(model, rasa_port),
             lambda: _answers(f"http://127.0.0.1:{rasa_port}/status"), f"on http://127.0.0.1:{rasa_port}"),
    ]
    if settings.telegram_token():
        ready_file, health_port = settings.var_dir() / "telegram.ready", settings.gateway_health_port()
        parts.append(Part(
            "Telegram gateway", "telegram", gateway_command(ready_file), lambda: _gateway_answers(ready_file, health_port),
            "and receiving updates", GATEWAY_START_TIMEOUT,
            # A gateway killed before it could remove its ready file must not look up at its next start.
            before_start=lambda: ready_file.unlink(missing_ok=True), timeout_hint=TELEGRAM_HINT,
        ))
    return parts


def _ports() -> list[tuple[int, str, str]]:
    """(port, what listens there, the setting) for each port the stack listens on."""
    ports = [(settings.console_port(), "the staff console", "ACOLLIDA_CONSOLE_PORT"),
             (settings.actions_port(), "the action server", "ACOLLIDA_ACTIONS_PORT"), (settings.rasa_port(), "the Rasa server", "ACOLLIDA_RASA_PORT")]
    if settings.telegram_token():
        ports.append((settings.gateway_health_port(), "the Telegram gateway's /health", "ACOLLIDA_GATEWAY_HEALTH_PORT"))
    return ports


def _taken_port_problem() -> str | None:
    """Another process on a port would answer for a part that did not start (or poll the same bot twice)."""
    for port, what, variable in _ports():
        if _port_taken(port):
            return (f"port {port} ({what}, {variable}) is taken by another process: is `acollida run` already running? "
                    f"Stop it, or set {variable} to a free port")
    return None


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


def _telegram_configuration_problem() -> str | None:
    """With a token set, a wrong gateway configuration stops `acollida run` before anything starts."""
    if not settings.telegram_token():
        return None
    try:
        check_ready(telegram_configuration())
    except ConfigurationError as error:
        return str(error)
    return None


def _stop_on_signal(stopping: threading.Event) -> Callable[[int, object], None]:
    def handler(number: int, frame: object) -> None:
        # Once stopping, a second Ctrl-C or SIGTERM must not cut the stopping short.
        if not stopping.is_set():
            stopping.set()
            # Raised in the main thread, it interrupts what that waits for (the chat's input(), a sleep).
            raise KeyboardInterrupt

    return handler


def _run(args: argparse.Namespace) -> int:
    try:
        settings.tracker_store()  # /forget and retention must find the store Rasa will write to
        console_config.from_settings()  # a console that must not start in production stops everything before it starts
        rasa_port, actions_port = settings.rasa_port(), settings.actions_port()
        parts = _parts(args.model, rasa_port, actions_port)
        problem = _taken_port_problem()
    except settings.SettingsError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    if problem:
        print(f"cannot start: {problem}", file=sys.stderr)
        return 2
    telegram_problem = _telegram_configuration_problem()
    if telegram_problem:
        print(f"cannot start the Telegram gateway: {telegram_problem}", file=sys.stderr)
        return 2
    _purge_expired_conversations()
    supervisor = Supervisor(parts)
    previous_handlers = {number: signal.signal(number, _stop_on_signal(supervisor.stopping)) for number in STOP_SIGNALS}
    try:
        threading.Thread(target=_purge_while_running, args=(supervisor.stopping,), daemon=True).start()
        supervisor.start()
        return _serve(args, supervisor, rasa_port)
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.stop()
        for number, handler in previous_handlers.items():
            signal.signal(number, handler)


def print_first_account_hint() -> None:
    """With no staff account yet, nobody can sign in to the console: say how to create the first."""
    with session_scope(engine_for(settings.database_url())) as session:
        if staff_accounts.any_account(session):
            return
    print(f"no staff account yet: create the first admin with `{FIRST_ACCOUNT_COMMAND}` (it asks for a password)", flush=True)


def _serve(args: argparse.Namespace, supervisor: Supervisor, rasa_port: int) -> int:
    while not supervisor.settled.wait(0.5):  # a timeout, so that a signal is handled at once
        pass
    if supervisor.failure:
        print(supervisor.failure, file=sys.stderr, flush=True)
        return 1
    print(f"the assistant is up; logs in {settings.log_dir()}; Ctrl-C stops everything", flush=True)
    print_first_account_hint()
    if args.no_chat:
        while True:
            time.sleep(3600)
    return run_chat(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", args.language_code)
