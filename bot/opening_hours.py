"""Days of the week and times of day, as offices' opening hours and mediators' working hours are written.

Both are stored alike, ``[{"days": ["mon", ...], "opens": "09:00", "closes": "14:00"}]``,
so the pack reader, the mediators' registry and the replies share these.
"""
from __future__ import annotations

import re

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def consecutive_days(days: list[str]) -> bool:
    """Whether the days follow each other in the week with no gap, so "mon–fri" can stand for them."""
    indexes = [WEEKDAYS.index(day) for day in days]
    return indexes == list(range(indexes[0], indexes[0] + len(indexes)))
