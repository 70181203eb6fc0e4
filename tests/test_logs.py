"""Server output goes into one file per day, and retention keeps working while the servers run."""
from __future__ import annotations

import io
import os
import threading
import time

from bot import logs, stack


def test_a_long_running_process_writes_a_new_file_each_day(tmp_path):
    days = iter(["2026-12-06", "2026-12-06", "2026-12-07"])
    files = logs.DayFiles(tmp_path, "rasa", today=lambda: next(days))
    files.copy(io.BytesIO(b"first line\nsecond line\nafter midnight\n"))
    assert (tmp_path / "rasa-2026-12-06.log").read_bytes() == b"first line\nsecond line\n"
    assert (tmp_path / "rasa-2026-12-07.log").read_bytes() == b"after midnight\n"


def test_the_purge_runs_again_while_the_assistant_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("ACOLLIDA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("ACOLLIDA_RETENTION_DAYS", "30")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(stack, "PURGE_EVERY_SECONDS", 0.05)
    (tmp_path / "logs").mkdir()
    old, recent = tmp_path / "logs" / "rasa-2026-10-01.log", tmp_path / "logs" / "rasa-2026-12-07.log"
    old.write_text("a day past the retention\n")
    recent.write_text("today\n")
    two_months_ago = time.time() - 67 * 86400
    os.utime(old, (two_months_ago, two_months_ago))
    stopped = threading.Event()
    loop = threading.Thread(target=stack._purge_while_running, args=(stopped,))
    loop.start()
    try:
        deadline = time.monotonic() + 10  # the first rounds may wait for imports (the purge reads Rasa's endpoints)
        while old.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not old.exists() and recent.exists()
        # Now a file ages past the retention while the loop runs.
        month_ago = time.time() - 31 * 86400
        os.utime(recent, (month_ago, month_ago))
        deadline = time.monotonic() + 10
        while recent.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not recent.exists()
    finally:
        stopped.set()
        loop.join(timeout=10)
