"""Rasa SDK custom actions. They are thin: each reads the tracker, calls into
``bot.conversation`` and sends what it returns."""
