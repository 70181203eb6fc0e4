"""Acollida: a first-welcome assistant for newcomers."""
