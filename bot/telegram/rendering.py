"""From Rasa's replies to what Telegram shows: texts within 4,096 characters, inline keyboards, venues.

Rasa buttons carry payloads such as ``/answer_topic{"topic": "school_enrollment"}``,
often longer than the 64 bytes Telegram allows as callback data, so the
keyboard carries a short key and the payload is stored under it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channel_protocol import HANDOFF_KEY, VENUE_KEY
from bot.database.base import utcnow
from bot.telegram.models import ButtonPayload

TELEGRAM_TEXT_LIMIT = 4096
PAYLOAD_PREFIX = "p:"


@dataclass
class TextOut:
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, callback data)


@dataclass
class VenueOut:
    latitude: float
    longitude: float
    title: str
    address: str


@dataclass
class HandoffOpened:
    request_id: int


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a paragraph, a line or a space when there is one."""
    pieces = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit  # no good place: cut the word
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return pieces + [rest] if rest else pieces


def payload_key(session: Session, payload: str) -> str:
    """The callback data for a Rasa payload; the same payload always gets the same key."""
    key = hashlib.blake2b(payload.encode("utf-8"), digest_size=12).hexdigest()
    stored = session.get(ButtonPayload, key)
    if stored is None:
        session.add(ButtonPayload(key=key, payload=payload))
    else:
        stored.created_at = utcnow()  # the retention counts from the last keyboard that carried it
    session.flush()
    return PAYLOAD_PREFIX + key


def payload_of(session: Session, callback_data: str) -> str | None:
    stored = session.get(ButtonPayload, callback_data.removeprefix(PAYLOAD_PREFIX))
    return stored.payload if stored else None


def render(session: Session, replies: list[dict[str, Any]]) -> list[TextOut | VenueOut | HandoffOpened]:
    """Rasa REST replies → what to send, in order."""
    out: list[TextOut | VenueOut | HandoffOpened] = []
    for reply in replies:
        if reply.get("text"):
            buttons = [(button["title"], payload_key(session, button["payload"])) for button in reply.get("buttons") or []]
            out.append(TextOut(reply["text"], buttons))
        custom = reply.get("custom") or {}
        if VENUE_KEY in custom:
            venue = custom[VENUE_KEY]
            out.append(VenueOut(venue["latitude"], venue["longitude"], venue["title"], venue["address"]))
        if HANDOFF_KEY in custom:
            out.append(HandoffOpened(int(custom[HANDOFF_KEY]["request_id"])))
    return out


def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """One button per row: titles are sentences in scripts of every width."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(title[:64], callback_data=data)] for title, data in buttons])
