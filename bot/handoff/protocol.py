"""What the Telegram gateway and the assistant's actions agree on.

The gateway marks its messages' metadata with ``channel: telegram`` and the
chat id; an action that opens a handoff says so in its reply's custom JSON,
under ``handoff``, with the request's id.
"""
TELEGRAM_CHANNEL = "telegram"
HANDOFF_KEY = "handoff"
