"""Logs that carry no message text, at any level, in every process Acollida starts.

Rasa renders its structured events as JSON (its logs go to files, not a
terminal) with the person's words under keys such as ``text``; python-
telegram-bot and httpx put whole updates and replies in a record's
arguments. `WithholdMessageText` removes both before a record is written,
keeping what an operator needs: which event, which logger, which error type.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import BinaryIO, Callable

LOGGING_CONFIG = Path(__file__).resolve().parent / "logging.yml"

# The keys Rasa's own anonymizer would mask (rasa.utils.log_utils), and the event data Rasa logs.
TEXT_KEYS = frozenset(
    "text response_text user_text slot_values parse_data_text parse_data_entities prediction_events tracker_latest_message "
    "prefilled_slots message response slot_candidates rasa_event rasa_events tracker_states current_states old_states "
    "successes current_entity next_entity states entity token_text user_message json_message metadata sender_id".split()
)
OUR_LOGGERS = ("bot", "actions")
WITHHELD = "[withheld]"


class WithholdMessageText(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".")[0] in OUR_LOGGERS:
            return True  # our own log lines name ids and error types, never text
        message = record.msg if isinstance(record.msg, str) else str(record.msg)
        if message.lstrip().startswith("{"):
            record.msg = _masked_event(message)
        elif isinstance(record.msg, dict):
            record.msg = json.dumps({key: (WITHHELD if key in TEXT_KEYS else value) for key, value in record.msg.items()}, default=str)
        if record.args:
            # An argument may be a whole update or a reply: the template says what happened.
            record.msg = f"{message} [arguments withheld]" if not message.lstrip().startswith("{") else record.msg
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception texts can quote the data (a parse error quotes the update): keep the type and the trace.
            error = record.exc_info[1]
            record.exc_text = None
            record.exc_info = (record.exc_info[0], type(error).__new__(type(error)) if _plain(error) else error, record.exc_info[2])
        return True


def _plain(error: BaseException) -> bool:
    try:
        type(error).__new__(type(error))
        return True
    except Exception:
        return False


def _masked_event(message: str) -> str:
    try:
        event = json.loads(message)
    except ValueError:
        return message if not any(f'"{key}"' in message for key in TEXT_KEYS) else "[log line withheld: it may carry message text]"
    if not isinstance(event, dict):
        return message
    return json.dumps({key: (WITHHELD if key in TEXT_KEYS else value) for key, value in event.items()}, default=str)


def install(level: int) -> None:
    """Our processes: every handler of the root logger withholds message text."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(WithholdMessageText())


class DayFiles:
    """Writes a process's output into ``<role>-YYYY-MM-DD.log``, a new file each day.

    A server runs for weeks: one file per start would keep its first day's lines as
    long as it runs. With one file per day, `privacy purge` deletes each day's file
    once it is older than the retention, whatever the process does.
    """

    def __init__(self, directory: Path, role: str, today: Callable[[], str] = lambda: time.strftime("%Y-%m-%d")) -> None:
        self.directory, self.role, self.today = directory, role, today
        self._day: str | None = None
        self._file: BinaryIO | None = None

    def path(self, day: str | None = None) -> Path:
        return self.directory / f"{self.role}-{day or self.today()}.log"

    def write(self, line: bytes) -> None:
        day = self.today()
        if day != self._day or self._file is None or self._file.closed:
            self.close()
            self._day, self._file = day, self.path(day).open("ab")
        self._file.write(line)
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def copy(self, stream: BinaryIO) -> None:
        """Copies the stream line by line until it ends (the process exited)."""
        try:
            for line in iter(stream.readline, b""):
                self.write(line)
        finally:
            self.close()
