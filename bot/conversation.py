"""What Acollida answers, turn by turn, given what the tracker knows.

Each function takes a ``Context`` (the conversation's slots and the latest
message) and returns a ``Turn``: the replies to send and the slots to set.
The Rasa actions in ``actions/`` only translate between the tracker and these
functions, so the logic is tested here without a Rasa server.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot import replies
from bot.channel_protocol import HANDOFF_KEY
from bot.database.base import utcnow
from bot.handoff import availability, queue
from bot.handoff.models import REASON_ASKED, REASON_FAILURES, REASON_SENSITIVE, REASON_UNSUPPORTED_LANGUAGE, REASONS
from bot.knowledge import answers
from bot.knowledge.search import search
from bot.language import Detection, likely_readable_language
from bot.language.scripts import NO_LETTERS
from bot.languages import LANGUAGES_BY_CODE, LOCAL_LANGUAGE, is_supported
from bot.replies import Reply, button, human_button, sentence, yes_no_buttons
from bot.texts import say

FAILURES_BEFORE_OFFERING_HUMAN = 2
# A search hit this strong, and well ahead of the next, is answered directly.
CONFIDENT_SEARCH_SCORE = 4.0
CONFIDENT_SEARCH_LEAD = 1.5

SMALL_TALK = ("greet", "goodbye", "thanks", "bot_challenge", "out_of_scope")


@dataclass(frozen=True)
class Context:
    text: str
    detection: Detection
    language: str | None  # the conversation's language, None while unknown
    hint: str | None = None  # Telegram's interface language
    municipality: str | None = None
    topic: str | None = None  # the topic answered last
    fallback_count: int = 0
    pending_offer: str | None = None
    chosen_language: str | None = None  # set on the turn the person picks a language
    sender_id: str | None = None  # Rasa's conversation id
    chat_id: int | None = None  # the Telegram chat, where a mediator can take over; None elsewhere
    other_language_offered: bool = False  # whether a romanized writer was offered another language already

    @property
    def reply_language(self) -> str:
        """The conversation's language, or the one the person most likely reads."""
        return self.language or likely_readable_language(self.detection, self.hint)


@dataclass
class Turn:
    replies: list[Reply] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)


def _fallback_languages(context: Context) -> list[str]:
    """Where to look for an article: the person's language, then what they may read."""
    candidates = [context.reply_language, context.hint, LOCAL_LANGUAGE, "es", "en"]
    return [code for code in dict.fromkeys(candidates) if code and is_supported(code)]


def answer_topic(session: Session, context: Context, topic_key: str) -> Turn:
    language = context.reply_language
    topic = answers.topic(session, topic_key)
    found = answers.find_article(session, topic_key, _fallback_languages(context), context.municipality) if topic else None
    if found is None:
        return Turn([sentence("topic_unavailable", language, topic_key, [human_button(language)])], {"topic": topic_key})

    turn = Turn(slots={"topic": topic_key, "fallback_count": 0, "pending_offer": None})
    if found.in_other_language:
        written_in = LANGUAGES_BY_CODE[found.article.language].native_name
        turn.replies.append(sentence("article_in_other_language", language, topic_key, language=written_in))
    turn.replies.append(replies.article_summary(found.article, language, has_offices=bool(found.article.offices)))

    if context.municipality is None and answers.has_municipal_variants(session, topic_key):
        towns = [button(m.name, "inform_municipality", municipality=m.key) for m in answers.municipalities(session)]
        turn.replies.append(sentence("ask_municipality", language, topic_key, towns))
    if topic.sensitive:
        turn.replies.append(sentence("sensitive_offer", language, topic_key, yes_no_buttons(language)))
        turn.slots["pending_offer"] = REASON_SENSITIVE
    return turn


def answer_details(session: Session, context: Context, topic_key: str | None) -> Turn:
    topic_key = topic_key or context.topic
    if not topic_key:
        return not_understood(session, context)
    found = answers.find_article(session, topic_key, _fallback_languages(context), context.municipality)
    if found is None:
        return answer_topic(session, context, topic_key)
    return Turn([replies.article_details(found.article)], {"topic": topic_key, "fallback_count": 0})


def answer_location(session: Session, context: Context, topic_key: str | None) -> Turn:
    topic_key = topic_key or context.topic
    language = context.reply_language
    if not topic_key:
        office = answers.mediation_office(session)
        return Turn(replies.office_cards([office] if office else [], language, "office_info"))
    found = answers.find_article(session, topic_key, _fallback_languages(context), context.municipality)
    offices = list(found.article.offices) if found else []
    return Turn(replies.office_cards(offices, language, topic_key), {"topic": topic_key, "fallback_count": 0})


def inform_municipality(session: Session, context: Context) -> Turn:
    language = context.reply_language
    municipality = answers.municipality(session, context.municipality)
    if municipality is None:
        towns = [button(m.name, "inform_municipality", municipality=m.key) for m in answers.municipalities(session)]
        return Turn([sentence("municipality_unknown", language, "inform_municipality", towns)])
    confirmation = sentence("municipality_set", language, "inform_municipality", municipality=municipality.name)
    if context.topic and answers.has_municipal_variants(session, context.topic):
        follow_up = answer_topic(session, context, context.topic)
        return Turn([confirmation] + follow_up.replies, follow_up.slots)
    return Turn([confirmation])


def small_talk(session: Session, context: Context, intent: str) -> Turn:
    language = context.reply_language
    territory = answers.territory_name(session)
    if intent == "greet":
        buttons = [
            button(f"{found.article.topic.icon} {found.article.title}".strip(), found.article.topic_key)
            for topic in answers.topics(session)
            if (found := answers.find_article(session, topic.key, [language], None))
        ]
        buttons += [human_button(language), button(say("button_language", language), "choose_language")]
        return Turn([sentence("greet", language, "greet", buttons, territory=territory)])
    if intent == "bot_challenge":
        return Turn([sentence("bot_challenge", language, "bot_challenge", [human_button(language)])])
    return Turn([sentence(intent, language, intent, territory=territory)])


def choose_language(session: Session, context: Context) -> Turn:
    if context.chosen_language:
        return Turn([sentence("language_changed", context.chosen_language, "choose_language")])
    return Turn([replies.language_menu(context.reply_language)])


def request_human(session: Session, context: Context) -> Turn:
    """A person: a live mediator on Telegram when any is registered, else the mediation service's contact.

    The reply carries ``{"handoff": {"request_id": N}}``: the gateway then
    pauses the assistant and tells the mediators.
    """
    language = context.reply_language
    reason = context.pending_offer if context.pending_offer in REASONS else REASON_ASKED
    waiting = availability.waiting_sentence(session, language, utcnow()) if context.chat_id is not None else None
    if waiting is not None:
        request, _ = queue.open_request(
            session,
            chat_id=context.chat_id,
            sender_id=context.sender_id or str(context.chat_id),
            language=context.language or context.detection.language,
            reason=reason,
            topic=context.topic,
            municipality=context.municipality,
        )
        handoff = replies.reply(waiting, language, "handoff")
        handoff["json_message"] = {HANDOFF_KEY: {"request_id": request.id}}
        return Turn([handoff], {"pending_offer": None, "fallback_count": 0})
    return contact_of_mediation_service(session, language)


def contact_of_mediation_service(session: Session, language: str) -> Turn:
    """Honest directions to a person where no live handoff is possible: the service, its hours and languages."""
    office = answers.mediation_office(session)
    if office is None:
        text = say("handoff_no_office", language, territory=answers.territory_name(session))
        return Turn([replies.reply(text, language, "handoff")], {"pending_offer": None})
    text = say(
        "handoff_contact",
        language,
        office=office.name,
        phone=office.phone or "-",
        hours=replies.opening_hours(office, language) or "-",
        languages=replies.spoken_languages(office) or "-",
    )
    card = replies.office_card(office, language, "handoff")
    return Turn([replies.reply(text, language, "handoff"), card], {"pending_offer": None, "fallback_count": 0})


def affirm(session: Session, context: Context) -> Turn:
    if context.pending_offer in REASONS:
        return request_human(session, context)
    return Turn([sentence("affirm_nothing_pending", context.reply_language, "affirm")])


def deny(session: Session, context: Context) -> Turn:
    return Turn([sentence("deny_ok", context.reply_language, "deny")], {"pending_offer": None})


def not_understood(session: Session, context: Context) -> Turn:
    """The NLU is unsure: search the knowledge base in the person's language."""
    language = context.reply_language
    if context.detection.script == NO_LETTERS:
        return Turn([sentence("no_text", language, "no_text", [human_button(language)])])
    if context.detection.unsupported and context.language is None:
        # A language we cannot read: say so where they may read it, and offer a person.
        menu = replies.language_menu(language, answer="language_unsupported")
        menu["text"] = say("language_unsupported", language)
        menu["buttons"] = menu["buttons"] + [human_button(language)]
        return Turn([menu], {"pending_offer": REASON_UNSUPPORTED_LANGUAGE})

    hits = search(session, context.text, language)
    failures = context.fallback_count + 1
    if hits and hits[0].score >= CONFIDENT_SEARCH_SCORE and (len(hits) == 1 or hits[0].score >= CONFIDENT_SEARCH_LEAD * hits[1].score):
        return answer_topic(session, context, hits[0].topic)
    if failures >= FAILURES_BEFORE_OFFERING_HUMAN:
        turn = Turn([sentence("offer_human_after_failures", language, "fallback", yes_no_buttons(language))])
        turn.slots = {"fallback_count": 0, "pending_offer": REASON_FAILURES}
        return turn
    if hits:
        suggestions = []
        for hit in hits:
            found = answers.find_article(session, hit.topic, _fallback_languages(context), None)
            if found:
                suggestions.append(button(found.article.title, hit.topic))
        return Turn([sentence("did_you_mean", language, "fallback", suggestions + [human_button(language)])], {"fallback_count": failures})
    return Turn([sentence("not_understood", language, "fallback", [human_button(language)])], {"fallback_count": failures})


def offer_other_language(context: Context, turn: Turn) -> Turn:
    """Someone who writes Urdu in Latin letters is answered in Urdu's own script, and offered, once, to switch.

    They may read the script well and lack only the keyboard, or prefer English
    (or the language their phone is set to): one tap changes it.
    """
    language = context.reply_language
    if (
        context.other_language_offered
        or context.chosen_language
        or not context.detection.romanized
        or context.detection.language != language
        or not turn.replies
    ):
        return turn
    alternatives = [code for code in dict.fromkeys([context.hint, "en", LOCAL_LANGUAGE]) if is_supported(code) and code != language]
    buttons = [button(LANGUAGES_BY_CODE[code].native_name, "choose_language", language=code) for code in alternatives[:2]]
    buttons.append(button(say("button_language", language), "choose_language"))
    offer = sentence("other_script_offer", language, "choose_language", buttons, language_name=LANGUAGES_BY_CODE[language].native_name)
    return Turn(turn.replies + [offer], {**turn.slots, "other_language_offered": True})
