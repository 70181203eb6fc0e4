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
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{db}")
    assert main(["privacy", "forget", "new-chat"]) == 0
    assert "deleted 2 stored record(s)" in capsys.readouterr().out
    assert (await store.retrieve("new-chat")) is None or not (await store.retrieve("new-chat")).events
    assert len((await store.retrieve("old-chat")).events) == 2


def test_nothing_stored_yet_is_not_an_error(tmp_path):
    assert purge_older_than(f"sqlite:///{tmp_path / 'none.db'}", days=1) == 0
