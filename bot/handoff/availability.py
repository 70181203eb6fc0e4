"""What to tell a newcomer waiting for a person: who is on duty, or when someone will be.

Honest by construction: it reads the registered mediators and their hours.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.handoff import hours, mediators
from bot.opening_hours import WEEKDAYS
from bot.texts import say


def when_text(moment: dt.datetime, language: str) -> str:
    """ "Mon 09:00" in the newcomer's language (weekday names from the text catalogue)."""
    local = moment.astimezone(hours.timezone())
    return f"{say(f'day_{WEEKDAYS[local.weekday()]}', language)} {local:%H:%M}"


def waiting_sentence(session: Session, language: str, now: dt.datetime) -> str | None:
    """The sentence for a newcomer in ``language`` now, or None when no mediator is registered."""
    everyone = mediators.all_mediators(session)
    if not everyone:
        return None
    speakers = [mediator for mediator in everyone if language in mediator.languages]
    speakers_on_duty = mediators.on_duty(speakers, now)
    if speakers_on_duty:
        return say("handoff_on_duty", language, names=", ".join(mediator.name for mediator in speakers_on_duty))
    if mediators.on_duty(everyone, now):
        return say("handoff_on_duty_other_language", language)
    # Nobody is working: say when the first one who speaks the language (or anyone) starts.
    candidates = speakers or everyone
    starts = [start for mediator in candidates if (start := hours.next_start(mediator.working_hours, now))]
    if not starts:
        return say("handoff_off_hours_unknown", language)
    return say("handoff_off_hours", language, when=when_text(min(starts), language))
