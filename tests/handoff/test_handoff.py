"""The handoff's state in the database: mediators, hours, the queue, a claim won exactly once."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from bot.cli import main
from bot.handoff import availability, hours, mediators, queue
from bot.handoff.models import CLAIMED, ENDED, EVENT_CLOSED, EVENT_OPENED, REASON_SENSITIVE, WAITING, HandoffRequest
from bot.database.schema import upgrade_schema
from bot.database.sessions import engine_for, session_scope
from bot.texts import say

MADRID = dt.timezone(dt.timedelta(hours=1))  # Europe/Madrid in November
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=MADRID)
MONDAY_20 = dt.datetime(2026, 11, 23, 20, 0, tzinfo=MADRID)
SATURDAY_10 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=MADRID)


@pytest.fixture
def session(database_url):
    upgrade_schema(database_url)
    with session_scope(engine_for(database_url)) as session:
        yield session


def add(session, user_id: int, name: str, languages: str, working_hours: str):
    return mediators.register_mediator(session, mediators.read_registration(user_id, name, languages, working_hours))


def test_working_hours_are_read_written_and_checked():
    periods = hours.parse_hours("mon-fri 09:00-14:00; thu 16:00-19:00")
    assert periods[0]["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert hours.format_hours(periods) == "mon-fri 09:00-14:00; thu 16:00-19:00"
    assert hours.is_within(periods, MONDAY_10) and not hours.is_within(periods, MONDAY_20)
    assert hours.next_start(periods, MONDAY_20) == dt.datetime(2026, 11, 24, 9, 0, tzinfo=hours.timezone())
    assert hours.next_start(periods, SATURDAY_10).weekday() == 0  # the next Monday
    for wrong in ("", "mon 14:00-09:00", "monday 09:00-14:00", "fri-mon 09:00-10:00", "mon 9-14"):
        with pytest.raises(hours.HoursInvalid):
            hours.parse_hours(wrong)


def test_registration_explains_what_is_wrong():
    with pytest.raises(ValueError, match="languages"):
        mediators.read_registration(1, "Aisha", "arabic!", "mon-fri 09:00-14:00")
    with pytest.raises(ValueError, match="name"):
        mediators.read_registration(1, " ", "ar", "mon-fri 09:00-14:00")
    # a mediator may speak a language the assistant does not (Tigrinya)
    assert mediators.read_registration(1, "Yonas", "ti, EN", "mon 09:00-10:00").languages == ["ti", "en"]


def test_the_newcomer_is_told_who_is_on_duty_or_when(session):
    assert availability.waiting_sentence(session, "ar", MONDAY_10) is None  # nobody registered
    add(session, 101, "Aisha", "ar,fr", "mon-fri 09:00-14:00")
    add(session, 102, "Olena", "uk,ru", "mon-fri 16:00-19:00")
    assert availability.waiting_sentence(session, "ar", MONDAY_10) == say("handoff_on_duty", "ar", names="Aisha")
    assert availability.waiting_sentence(session, "uk", MONDAY_10) == say("handoff_on_duty_other_language", "uk")
    when = availability.when_text(dt.datetime(2026, 11, 24, 9, 0, tzinfo=MADRID), "ar")
    assert availability.waiting_sentence(session, "ar", MONDAY_20) == say("handoff_off_hours", "ar", when=when)
    assert say("day_tue", "ar") in when


def test_one_open_request_per_chat_and_its_life(session):
    first, created = queue.open_request(session, chat_id=7, sender_id="7", language="ar", reason=REASON_SENSITIVE, topic="asylum")
    again, created_again = queue.open_request(session, chat_id=7, sender_id="7", language="ar", reason=REASON_SENSITIVE)
    assert created and not created_again and again.id == first.id
    assert first.status == WAITING and [event[1:] for event in queue.events_due(session, 7)] == [(first.id, "7", EVENT_OPENED)]
    aisha = add(session, 101, "Aisha", "ar", "mon-sun 00:00-23:59")
    assert queue.claim(session, first.id, aisha)
    session.refresh(first)
    assert first.status == CLAIMED and queue.held_by(first, aisha)
    queue.release(session, first)
    assert first.status == WAITING and first.mediator_id is None and first.announced_at is None
    assert queue.claim(session, first.id, aisha)
    session.refresh(first)
    queue.close(session, first)
    assert first.status == ENDED and queue.open_request_of(session, 7) is None
    assert [event[3] for event in queue.events_due(session, 7)] == [EVENT_OPENED, EVENT_CLOSED]  # delivered in order
    queue.event_delivered(session, queue.events_due(session, 7)[0][0])
    assert [event[3] for event in queue.events_due(session, 7)] == [EVENT_CLOSED]
    queue.forget_chat(session, 7)
    assert queue.events_due(session, 7) == [] and session.get(HandoffRequest, first.id) is None


def test_announcements_are_due_once_then_again_after_the_interval(session):
    request, _ = queue.open_request(session, chat_id=8, sender_id="8", language="uk", reason="asked")
    now = dt.datetime.now(dt.timezone.utc)
    assert [r.id for r in queue.due_for_announcement(session, now, dt.timedelta(minutes=10))] == [request.id]
    request.announced_at = now
    session.flush()
    assert queue.due_for_announcement(session, now + dt.timedelta(minutes=5), dt.timedelta(minutes=10)) == []
    assert len(queue.due_for_announcement(session, now + dt.timedelta(minutes=11), dt.timedelta(minutes=10))) == 1


def test_two_mediators_pressing_take_together_one_wins(database_url):
    upgrade_schema(database_url)
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        request, _ = queue.open_request(session, chat_id=9, sender_id="9", language="fr", reason="asked")
        ids = [add(session, 200 + n, f"M{n}", "fr", "mon-sun 00:00-23:59").id for n in range(6)]
    barrier = threading.Barrier(len(ids))
    wins: list[int] = []

    def press(mediator_id: int) -> None:
        with session_scope(engine) as session:
            mediator = session.get(mediators.Mediator, mediator_id)
            barrier.wait()
            if queue.claim(session, request.id, mediator):
                wins.append(mediator_id)

    threads = [threading.Thread(target=press, args=(mediator_id,)) for mediator_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope(engine) as session:
        stored = session.get(HandoffRequest, request.id)
        assert len(wins) == 1 and stored.mediator_id == wins[0] and stored.status == CLAIMED


def test_mediators_command_adds_lists_and_removes(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["mediators", "add", "555", "--name", "Aisha", "--languages", "ar,fr", "--hours", "mon-fri 09:00-14:00"]) == 0
    assert main(["mediators", "add", "556", "--name", "Olena", "--languages", "uk", "--hours", "mon 25:00-26:00"]) == 2
    assert "not registered" in capsys.readouterr().err
    assert main(["mediators", "list"]) == 0
    listing = capsys.readouterr().out
    assert "555\tAisha\tar,fr\tmon-fri 09:00-14:00" in listing and "Olena" not in listing
    assert main(["mediators", "remove", "555"]) == 0
    assert main(["mediators", "remove", "555"]) == 1
    capsys.readouterr()
    main(["mediators", "list"])
    assert "Aisha" not in capsys.readouterr().out
