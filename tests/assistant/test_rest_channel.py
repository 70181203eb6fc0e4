"""The channel path Telegram will use: Rasa's REST webhook with metadata, and the local chat on it."""
from __future__ import annotations

import requests

from bot.knowledge import answers
from bot.texts import say
from bot.local_chat import run_chat


def test_the_telegram_language_code_reaches_the_detector(rasa_url):
    # "hola" alone is Catalan or Spanish: the app's language decides.
    for code in ("ca", "es"):
        sender = f"rest-{code}"
        reply = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": "hola", "metadata": {"language_code": code}}, timeout=60)
        assert reply.ok and reply.json()
        tracker = requests.get(f"{rasa_url}/conversations/{sender}/tracker", timeout=30).json()
        assert tracker["slots"]["language"] == code


def test_local_chat_shows_buttons_as_numbers_and_presses_them(rasa_url, knowledge, capsys):
    typed = iter(["tarjeta sanitaria", "1"])

    def read(prompt: str) -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError

    assert run_chat(f"{rasa_url}/webhooks/rest/webhook", "es", read=read) == 0
    out = capsys.readouterr().out
    article = answers.find_article(knowledge, "health_card", ["es"], None).article
    assert f"[1] {say('button_details', 'es')}" in out
    # only the details, which button 1 asked for, carry the dated source
    assert say("details_source", "es", url=article.source_url, date=article.last_reviewed.isoformat()) in out
