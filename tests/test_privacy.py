"""Retention and erasure on Rasa's own SQL tracker store."""
from __future__ import annotations

import time

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.cli import main
from bot.privacy import forget_conversation, purge_older_than


async def store_conversations(db_path: str) -> SQLTrackerStore:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=db_path)
    day = 24 * 3600
    for sender, age_days in (("old-chat", 100), ("new-chat", 1)):
        tracker = DialogueStateTracker(sender, [])
        tracker.update(UserUttered("my address is ...", timestamp=time.time() - age_days * day))
        tracker.update(UserUttered("thanks", timestamp=time.time() - age_days * day + 60))
        await store.save(tracker)
    return store


async def test_purge_deletes_only_what_is_older_than_the_retention(tmp_path):
    db = str(tmp_path / "tracker.db")
    store = await store_conversations(db)
    assert purge_older_than(f"sqlite:///{db}", days=90) == 2
    assert (await store.retrieve("old-chat")) is None or not (await store.retrieve("old-chat")).events
    assert len((await store.retrieve("new-chat")).events) == 2


async def test_forget_erases_one_conversation(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "tracker.db")
    store = await store_conversations(db)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n", encoding="utf-8")
    monkeypatch.setenv("ACOLLIDA_ENDPOINTS", str(endpoints))  # the file Rasa is started with names the store
    assert main(["privacy", "forget", "new-chat"]) == 0
    assert "deleted 2 stored record(s)" in capsys.readouterr().out
    assert (await store.retrieve("new-chat")) is None or not (await store.retrieve("new-chat")).events
    assert len((await store.retrieve("old-chat")).events) == 2


def test_nothing_stored_yet_is_not_an_error(tmp_path):
    assert purge_older_than(f"sqlite:///{tmp_path / 'none.db'}", days=1) == 0


def test_purge_with_zero_days_keeps_nothing(tmp_path, monkeypatch, capsys):
    db = tmp_path / "tracker.db"
    import asyncio
    asyncio.run(store_conversations(str(db)))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n", encoding="utf-8")
    monkeypatch.setenv("ACOLLIDA_ENDPOINTS", str(endpoints))
    monkeypatch.setenv("ACOLLIDA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'kb.db'}")
    assert main(["privacy", "purge", "--days", "0"]) == 0
    assert "deleted 4 stored record(s)" in capsys.readouterr().out
