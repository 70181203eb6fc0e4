"""The application's one database: its declarative base, engines and sessions, and its migrations.

Each package keeps its own models on this base (``bot.knowledge.models``,
``bot.handoff.models``, ``bot.telegram.models``); ``bot.database.schema``
migrates them together, so there is one schema history for one database.
"""
