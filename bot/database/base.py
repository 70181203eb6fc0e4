"""The declarative base every package's models are declared on, and how stored times are read."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import MetaData
from sqlalchemy.orm import declarative_base

# Named constraints so that migrations can alter them on every database.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Base = declarative_base(metadata=metadata)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored time, timezone-aware."""
    # SQLite returns naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
