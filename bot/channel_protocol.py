"""What the channels (the Telegram gateway, the local chat) and the assistant's actions agree on.

The gateway marks its messages' metadata with ``channel: telegram`` and the
chat id. A reply's custom JSON carries what is more than text: under
``handoff`` the id of a request the action opened, under ``venue`` an
office to show on a map.
"""
TELEGRAM_CHANNEL = "telegram"
HANDOFF_KEY = "handoff"
VENUE_KEY = "venue"
