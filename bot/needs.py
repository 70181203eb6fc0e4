"""Urgent needs and small talk: the two kinds of intent that must never be confused.

Food, shelter, health, violence (social services) and a child out of school
are needs; answering one as "no", "goodbye" or "thanks" brushes off a person
in trouble. `bot.nlu.need_guard` keeps it from happening and `acollida eval`
counts whether it did.
"""
from __future__ import annotations

NEED_INTENTS = ("social_services", "housing", "health_card", "school_enrollment")
SMALL_TALK_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "out_of_scope")
