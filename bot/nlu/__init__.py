"""Custom Rasa NLU components, one per module (Rasa loads them by dotted path)."""
