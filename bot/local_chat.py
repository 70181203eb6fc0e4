"""`acollida chat`: a terminal chat with the running assistant.

It goes through Rasa's REST channel with the same metadata the Telegram
gateway sends, so what works here works on Telegram. Buttons are shown as
numbered choices: type the number to press one.
"""
from __future__ import annotations

import argparse
import locale
import sys
import uuid

import requests

from bot.channel_protocol import VENUE_KEY
from bot.languages import normalise_code

DEFAULT_URL = "http://127.0.0.1:5005/webhooks/rest/webhook"


def register(subparsers: argparse._SubParsersAction) -> None:
    chat = subparsers.add_parser("chat", help="chat with the running assistant in this terminal")
    chat.add_argument("--url", default=DEFAULT_URL, help="Rasa's REST webhook")
    chat.add_argument("--language-code", default=None, help="the interface language Telegram would report (default: this terminal's)")
    chat.set_defaults(func=lambda args: run_chat(args.url, args.language_code or _terminal_language()))


def _terminal_language() -> str | None:
    return normalise_code((locale.getlocale()[0] or "").split(".")[0])


def render(messages: list[dict]) -> list[dict]:
    """Print the bot's messages; return the buttons offered, in the numbering shown."""
    buttons: list[dict] = []
    for message in messages:
        if message.get("text"):
            print(f"\n🤖 {message['text']}")
        venue = (message.get("custom") or {}).get(VENUE_KEY)
        if venue:
            print(f"   🗺  https://www.openstreetmap.org/?mlat={venue['latitude']}&mlon={venue['longitude']}#map=18/{venue['latitude']}/{venue['longitude']}")
        for button in message.get("buttons") or []:
            buttons.append(button)
            print(f"   [{len(buttons)}] {button['title']}")
    return buttons


def run_chat(url: str, language_code: str | None, read=input) -> int:
    sender = f"local-{uuid.uuid4().hex[:12]}"
    metadata = {"language_code": language_code, "chat_id": sender}
    print("Acollida — local chat. Write a message; a number presses a button; Ctrl-D or Ctrl-C quits.")
    buttons: list[dict] = []
    while True:
        try:
            text = read("\n> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            response = requests.post(url, json={"sender": sender, "message": text, "metadata": metadata}, timeout=60)
            response.raise_for_status()
        except requests.RequestException as error:
            print(f"(the assistant is not answering: {error.__class__.__name__}; is it running?)", file=sys.stderr)
            continue
        buttons = render(response.json())
