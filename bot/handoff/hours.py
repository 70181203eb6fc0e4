"""Working hours: "mon-fri 09:00-14:00; thu 16:00-19:00", in the deployment's time zone.

Stored the way offices store their opening hours
(``[{"days": [...], "opens": "09:00", "closes": "14:00"}]``), so the same
code shows both to newcomers.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot import settings
from bot.opening_hours import TIME_PATTERN, WEEKDAYS, consecutive_days

_PERIOD = re.compile(r"^\s*(?P<days>[a-z,\-]+)\s+(?P<opens>\d\d:\d\d)\s*-\s*(?P<closes>\d\d:\d\d)\s*$")


class HoursInvalid(ValueError):
    pass


def timezone() -> ZoneInfo:
    return ZoneInfo(settings.timezone_name())


def parse_hours(text: str) -> list[dict]:
    """ "mon-fri 09:00-14:00; sat 10:00-12:00" → periods; raises HoursInvalid saying what is wrong."""
    periods = []
    for part in filter(None, (piece.strip() for piece in text.lower().split(";"))):
        match = _PERIOD.match(part)
        if not match:
            raise HoursInvalid(f"{part!r}: write days and times like 'mon-fri 09:00-14:00'")
        opens, closes = match["opens"], match["closes"]
        if not (TIME_PATTERN.match(opens) and TIME_PATTERN.match(closes)) or opens >= closes:
            raise HoursInvalid(f"{part!r}: times are HH:MM, opening before closing")
        periods.append({"days": _parse_days(match["days"], part), "opens": opens, "closes": closes})
    if not periods:
        raise HoursInvalid("no working hours given: write them like 'mon-fri 09:00-14:00'")
    return periods


def _parse_days(text: str, part: str) -> list[str]:
    days: list[str] = []
    for item in text.split(","):
        first, _, last = item.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise HoursInvalid(f"{part!r}: days are {', '.join(WEEKDAYS)}")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if end < start:
            raise HoursInvalid(f"{part!r}: a range of days goes forward, like mon-fri")
        days += [day for day in WEEKDAYS[start : end + 1] if day not in days]
    return days


def format_hours(periods: list[dict]) -> str:
    """The inverse of parse_hours, for listings."""
    parts = []
    for period in periods:
        days = period["days"]
        day_text = f"{days[0]}-{days[-1]}" if len(days) > 1 and consecutive_days(days) else ",".join(days)
        parts.append(f"{day_text} {period['opens']}-{period['closes']}")
    return "; ".join(parts)


def is_within(periods: list[dict], moment: dt.datetime) -> bool:
    local = moment.astimezone(timezone())
    day, clock = WEEKDAYS[local.weekday()], local.strftime("%H:%M")
    return any(day in period["days"] and period["opens"] <= clock < period["closes"] for period in periods)


def next_start(periods: list[dict], moment: dt.datetime) -> dt.datetime | None:
    """When the next working period begins after ``moment`` (within a week), in local time."""
    local = moment.astimezone(timezone())
    starts = []
    for offset in range(8):
        date = (local + dt.timedelta(days=offset)).date()
        for period in periods:
            if WEEKDAYS[date.weekday()] in period["days"]:
                hour, minute = map(int, period["opens"].split(":"))
                start = dt.datetime.combine(date, dt.time(hour, minute), tzinfo=local.tzinfo)
                if start > local:
                    starts.append(start)
    return min(starts, default=None)
