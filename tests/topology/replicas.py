"""The processes of the topology: started with bot.stack, each with a folder of its own for its logs."""
from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from bot import settings
from bot.stack import start, stop

POSTGRES_SERVER = os.environ.get("ACOLLIDA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SHIPPED_PACK = settings.PROJECT_ROOT / "knowledge" / "osona"


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen
    var_dir: Path
    killed: bool = False

    def kill(self) -> None:
        """SIGKILL to its process group: no shutdown, as when a machine or container dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.killed = True

    def stop(self) -> None:
        stop(self.process)

    def log_tail(self, lines: int = 20) -> str:
        """Its log: how often each kind of warning and error came (numbers masked), then its last lines."""
        logs = sorted((self.var_dir / "logs").glob("*.log"))
        news = [line for log in logs for line in _news(log.read_text(errors="replace").splitlines())]
        kinds = collections.Counter(
            re.sub(r"\d+", "N", _TIMESTAMP.sub("", line))[:160] for line in news if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)
        )
        state = "KILLED by the test" if self.killed else f"exit code {self.process.poll()}"
        return "\n".join(
            [f"--- {self.name} (port {self.port}, {state}), {self.var_dir / 'logs'}; warnings and errors by kind:"]
            + [f"{count:5d} x {kind}" for kind, count in kinds.most_common(8)]
            + [f"last {lines} lines:"]
            + news[-lines:]
        )


_NOISE = re.compile(r"\w+Warning: |Skipping validation for")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T][\d:,.]+\s*")
_NEW_ENTRY = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d|Traceback ")


def _news(lines: list[str]) -> Iterator[str]:
    """A log's lines without the noise that would fill its tail: libraries' warnings at start
    (up to the next log entry) and rasa_sdk's at every form action that a slot has no
    validation method."""
    noise = False
    for line in lines:
        if _NOISE.search(line):
            noise = True
        elif _NEW_ENTRY.match(line):
            noise = False
        if not noise:
            yield line


def start_replica(name: str, command: list[str], port: int, var_dir: Path, environment: dict[str, str]) -> Replica:
    """Starts `command` as bot.stack does, with `environment` on top of this process's and its logs in `var_dir`."""
    with pytest.MonkeyPatch.context() as patch:  # bot.stack.start reads both from os.environ
        for variable, value in {**environment, "ACOLLIDA_VAR_DIR": str(var_dir)}.items():
            patch.setenv(variable, value)
        process = start(command, name)
    return Replica(name, port, process, var_dir)


@contextlib.contextmanager
def shared_database() -> Iterator[str]:
    """A PostgreSQL database for the whole module (tests/conftest.py's `postgres_url` lasts one test)."""
    name = f"acollida_topology_{uuid.uuid4().hex[:10]}"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT", future=True)
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def load_knowledge(database_url: str) -> None:
    """The shipped pack in the database, as an operator loads it: `acollida kb import` (the schema, then the pack)."""
    environment = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(settings.PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "import", str(SHIPPED_PACK)],
        cwd=settings.PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`acollida kb import` failed ({result.returncode}):\n{result.stdout}{result.stderr}")
