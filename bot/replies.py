"""Turning knowledge into the messages a newcomer reads.

A reply is a dict of ``dispatcher.utter_message`` arguments: ``text``,
``buttons``, ``json_message`` (a venue for a map), and two metadata keys the
channels and ``acollida eval`` read: ``language`` (the language the text is
written in) and ``answer`` (the topic key, or what kind of reply it is).
Buttons carry Rasa payloads (``/intent{"entity": "value"}``), so a press
never depends on the NLU.
"""
from __future__ import annotations

import json
from typing import Any

from bot.channel_protocol import VENUE_KEY
from bot.knowledge.models import Article, Office
from bot.languages import LANGUAGES_BY_CODE, SUPPORTED_LANGUAGES
from bot.opening_hours import WEEKDAYS, consecutive_days
from bot.texts import say

Reply = dict[str, Any]

MAX_OFFICES_SHOWN = 3


def payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def button(title: str, intent: str, **entities: str) -> dict[str, str]:
    return {"title": title, "payload": payload(intent, **entities)}


def reply(text: str, language: str, answer: str, buttons: list[dict] | None = None, venue: dict | None = None) -> Reply:
    message: Reply = {"text": text, "language": language, "answer": answer}
    if buttons:
        message["buttons"] = buttons
    if venue:
        message["json_message"] = {VENUE_KEY: venue}
    return message


def sentence(key: str, language: str, answer: str, buttons: list[dict] | None = None, /, **values: object) -> Reply:
    return reply(say(key, language, **values), language, answer, buttons)


def language_menu(language: str, answer: str = "choose_language") -> Reply:
    buttons = [button(lang.native_name, "choose_language", language=lang.code) for lang in SUPPORTED_LANGUAGES]
    return sentence("language_menu", language, answer, buttons)


def human_button(language: str) -> dict[str, str]:
    return button(say("button_human", language), "request_human")


def yes_no_buttons(language: str) -> list[dict[str, str]]:
    return [button(say("button_yes", language), "affirm"), button(say("button_no", language), "deny")]


def article_summary(article: Article, language: str, has_offices: bool) -> Reply:
    """The short answer, as a phone shows it first, with what can come next."""
    topic = article.topic_key
    buttons = [button(say("button_details", language), "ask_details", topic=topic)]
    if has_offices:
        buttons.append(button(say("button_where", language), "ask_location", topic=topic))
    buttons += [human_button(language), button(say("button_language", language), "choose_language")]
    icon = f"{article.topic.icon} " if article.topic and article.topic.icon else ""
    return reply(f"{icon}{article.title}\n\n{article.short_answer}", article.language, topic, buttons)


def article_details(article: Article) -> Reply:
    language = article.language
    parts = [article.title, article.full_text]
    if article.documents:
        parts.append(say("details_documents", language) + "\n" + "\n".join(f"• {item}" for item in article.documents))
    if article.steps:
        parts.append(say("details_steps", language) + "\n" + "\n".join(f"{n}. {step}" for n, step in enumerate(article.steps, 1)))
    if article.links:
        parts.append(say("details_links", language) + "\n" + "\n".join(f"• {link['title']}: {link['url']}" for link in article.links))
    parts.append(say("details_source", language, url=article.source_url, date=article.last_reviewed.isoformat()))
    buttons = [button(say("button_where", language), "ask_location", topic=article.topic_key)] if article.offices else []
    return reply("\n\n".join(parts), language, article.topic_key, buttons + [human_button(language)])


def opening_hours(office: Office, language: str) -> str:
    """ "Mon–Fri 09:00–14:00; Thu 16:00–19:00" with the weekday names of ``language``."""
    periods = []
    for period in office.opening_hours:
        days = sorted(period["days"], key=WEEKDAYS.index)
        names = [say(f"day_{day}", language) for day in days]
        day_text = f"{names[0]}–{names[-1]}" if len(days) > 2 and consecutive_days(days) else ", ".join(names)
        periods.append(f"{day_text} {period['opens']}–{period['closes']}")
    return "; ".join(periods)


def spoken_languages(office: Office) -> str:
    return ", ".join(LANGUAGES_BY_CODE[code].native_name if code in LANGUAGES_BY_CODE else code for code in office.languages)


def office_card(office: Office, language: str, answer: str) -> Reply:
    lines = [f"📍 {office.name}", office.address]
    if office.opening_hours:
        lines.append(say("office_hours", language, hours=opening_hours(office, language)))
    if office.phone:
        lines.append(say("office_phone", language, phone=office.phone))
    if office.languages:
        lines.append(say("office_languages", language, languages=spoken_languages(office)))
    if office.url:
        lines.append(office.url)
    if office.sample:
        lines.append(say("office_sample", language))
    venue = None
    if office.latitude is not None and office.longitude is not None:
        venue = {"latitude": office.latitude, "longitude": office.longitude, "title": office.name, "address": office.address}
    return reply("\n".join(lines), language, answer, venue=venue)


def office_cards(offices: list[Office], language: str, answer: str) -> list[Reply]:
    if not offices:
        return [sentence("offices_none", language, answer, [human_button(language)])]
    heading = sentence("offices_heading", language, answer)
    return [heading] + [office_card(office, language, answer) for office in offices[:MAX_OFFICES_SHOWN]]
