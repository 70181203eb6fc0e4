"""A fake Telegram Bot API server for end-to-end tests of the Telegram gateway.

`FakeBotAPI` is a real HTTP server (aiohttp, on 127.0.0.1 and a free port) that speaks the
Bot API's JSON, so python-telegram-bot (PTB) runs against it unchanged: build the bot or the
`Application` with ``.base_url(fake.base_url)`` and ``.base_file_url(fake.base_file_url)``.
The server runs in its own thread with its own event loop, so the same instance serves sync
tests, async tests on any loop, and a gateway that is stopped and started again.

What it fakes
-------------
- A small world: private chats, supergroups (optionally forums with topics) and their
  messages. Message ids increase per chat; users' and the bot's messages share them. Every
  message has a ``date``; `age_message` moves it back to test time limits.
- Incoming updates, made by helpers from any thread: text (commands and mentions get their
  entities, so unknown commands like ``/foo`` are commands to PTB too), photos, voices,
  stickers, documents, dice (`user_sends_dice`), forwarded stories (`user_sends_story`),
  polls (`user_sends_poll`), edits of a user's text (`user_edits`, an ``edited_message``) and
  button presses (`user_presses`). They are served by long-polling ``getUpdates`` (offset
  confirms and drops, limit, timeout), or, once ``setWebhook`` was called, POSTed in order to
  the webhook with the ``X-Telegram-Bot-Api-Secret-Token`` header; each delivery's HTTP
  status is recorded.
- Webhook delivery as Telegram does it, when asked: with `webhook_retry_delay` a delivery
  that fails (connection refused, no answer within `webhook_timeout`, a status other than
  2xx) is made again after that delay until the webhook accepts it, and the updates after
  it wait. With `concurrent_webhook` the updates of different chats are delivered side by
  side, up to setWebhook's ``max_connections`` (default 40) at once, each chat's one after
  the other. By default one update is POSTed at a time and a failed delivery is dropped.
- The methods a gateway uses (see `FakeBotAPI._METHOD_NAMES`), with Telegram's error
  answers for common mistakes: unknown chat, empty or too long text, callback data over 64
  bytes, HTML that Telegram rejects, editing without a change, answering a callback query
  twice, topics in a chat that is not a forum, unknown file ids.
- Deletion as Telegram allows it: ``deleteMessage`` refuses messages that do not exist or
  are 48 hours old or older; ``deleteMessages`` (up to 100 ids) skips those; deleting a forum
  topic deletes its messages. `deleted_message_ids` lists what was deleted, per chat.
- Failures on demand, for any method, as Telegram answers them: the next N calls
  (`fail_next`) or every call for some seconds (`fail_for`) answer 429 with
  ``parameters.retry_after``, 500, 502, 403 "bot was blocked by the user", 400 with a given
  description, ... Refused calls stay in `calls`; `accepted_calls_of` keeps only those
  answered ``ok``. Also a second getUpdates cutting off the first (409), getUpdates while a
  webhook is set (409), wrong token (401), unknown method (404).
- Files: users' photos, voices, stickers and documents get file ids; ``getFile`` and
  downloads from `base_file_url` work.

What it does not fake
---------------------
- Entities for ``parse_mode``: HTML is checked for unsupported or unbalanced tags and
  stripped, Markdown markers and escapes are stripped roughly; the stored message keeps the
  resulting plain text and no entities. The raw parameters are in `calls`.
- Channels, inline mode, payments, sending polls, poll answers and votes, media groups,
  business accounts, reactions, permissions and membership (the bot may post in and delete
  from every known chat), webhook certificates, Telegram's growing delay between webhook
  retries, and rate limits other than those asked for with `fail_next` and `fail_for`.
- Failures are answered before the method runs, so a refused call never has an effect; a
  real 5xx may come after Telegram did send the message. Errors are always JSON; a real
  502 from Telegram's front end may be an HTML page instead (PTB raises NetworkError
  either way).
- Dice rules for deletion (a dice in a private chat can be deleted only after 24 hours).

Everything a test inspects (`calls`, `messages_to`, ...) is returned as a copy.
"""
from __future__ import annotations

import asyncio
import collections
import copy
import json
import math
import random
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any, Callable, TypeVar

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
T = TypeVar("T")

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
DEFAULT_TOPIC_ICON_COLOR = 7322096
# deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago."
MAX_DELETABLE_AGE_SECONDS = 48 * 3600
MAX_DELETE_MESSAGES = 100
MAX_POLL_OPTIONS = 12
# The highest value each dice emoji can show (the lowest is 1).
DICE_MAX_VALUES = {"🎲": 6, "🎯": 6, "🎳": 6, "🏀": 5, "⚽": 5, "🎰": 64}
# What Telegram says with an error code when there is nothing more specific to say; codes not
# listed get their HTTP reason phrase. 429 is built with its retry_after, see `_Failure`.
ERROR_DESCRIPTIONS = {403: "Forbidden: bot was blocked by the user"}

# How PTB encodes parameters: form fields whose values are strings as they are and everything
# else JSON-dumped (ints, bools, dicts, lists). These tables turn them back into values.
JSON_FIELDS = {
    "reply_markup", "reply_parameters", "entities", "caption_entities", "allowed_updates",
    "link_preview_options", "commands", "scope", "media", "message_ids",
}
INT_FIELDS = {
    "chat_id", "from_chat_id", "message_id", "message_thread_id", "reply_to_message_id",
    "offset", "limit", "timeout", "icon_color", "cache_time", "max_connections", "user_id",
    "duration", "live_period", "heading", "proximity_alert_radius",
}
FLOAT_FIELDS = {"latitude", "longitude", "horizontal_accuracy"}
BOOL_FIELDS = {
    "disable_notification", "protect_content", "allow_sending_without_reply", "show_alert",
    "drop_pending_updates", "has_spoiler", "disable_content_type_detection",
    "show_caption_above_media", "allow_paid_broadcast",
}
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}
HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote",
}
# Message fields that carry content, i.e. what copyMessage and forwardMessage reproduce.
CONTENT_FIELDS = (
    "text", "entities", "photo", "document", "voice", "sticker", "audio", "video",
    "animation", "caption", "caption_entities", "location", "venue", "contact",
)
FILE_EXTENSIONS = {"photo": ".jpg", "voice": ".oga", "sticker": ".webp", "document": ""}

COMMAND_PATTERN = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
MENTION_PATTERN = re.compile(r"(?<![\w/@])@[A-Za-z0-9_]{5,32}")
BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
INTEGER = re.compile(r"-?\d+")


class BotAPIError(Exception):
    """An error answer of the Bot API, sent as ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def as_json(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {reason}")


# --------------------------------------------------------------------------- world handles


@dataclass(frozen=True)
class FakeUser:
    """A human Telegram user."""

    id: int
    first_name: str
    language_code: str = "ar"
    username: str | None = None

    def as_json(self) -> JSON:
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name,
                      "language_code": self.language_code}
        if self.username:
            user["username"] = self.username
        return user


@dataclass(frozen=True)
class FakeChat:
    """A private chat (`user` is the person in it) or a supergroup, maybe a forum."""

    id: int
    type: str
    title: str | None = None
    is_forum: bool = False
    user: FakeUser | None = None

    def as_json(self) -> JSON:
        if self.user is not None:
            chat: JSON = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.username:
                chat["username"] = self.user.username
            return chat
        chat = {"id": self.id, "type": self.type, "title": self.title}
        if self.is_forum:
            chat["is_forum"] = True
        return chat


@dataclass
class ForumTopic:
    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    is_closed: bool = False

    def as_json(self) -> JSON:
        topic: JSON = {"message_thread_id": self.message_thread_id, "name": self.name,
                       "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass(frozen=True)
class UploadedFile:
    """A file the client uploaded in a multipart request."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to the webhook: `status` is None when the connection failed."""

    update_id: int
    status: int | None
    error: str | None


@dataclass
class _ChatState:
    chat: FakeChat
    messages: dict[int, JSON] = field(default_factory=dict)
    topics: dict[int, ForumTopic] = field(default_factory=dict)
    last_message_id: int = 0
    deleted_message_ids: list[int] = field(default_factory=list)

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


@dataclass
class _QueuedUpdate:
    update: JSON
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return self.update["update_id"]


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None
    # How many deliveries may be under way at once (with `concurrent_webhook`).
    connections: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.connections = asyncio.Semaphore(self.max_connections)


@dataclass
class _Call:
    """One method call with a valid token; `error_code` is set once it was refused."""

    method: str
    params: JSON
    answered: bool = False
    error_code: int | None = None

    @property
    def accepted(self) -> bool:
        return self.answered and self.error_code is None


@dataclass
class _Failure:
    """An error that calls of one method answer instead of running: the next `times` calls
    (`fail_next`), or every call until `until` on the time.monotonic() clock (`fail_for`)."""

    error_code: int
    description: str | None
    retry_after: int | None
    times: int | None = None
    until: float | None = None

    def is_over(self, now: float) -> bool:
        return (self.times is not None and self.times <= 0) or (
            self.until is not None and now >= self.until)

    def error(self, now: float) -> BotAPIError:
        if self.times is not None:
            self.times -= 1
        if self.error_code == 429:
            # Without an explicit value a window says when it ends, as Telegram's flood wait does.
            retry_after = self.retry_after
            if retry_after is None:
                retry_after = max(1, math.ceil((self.until or now) - now))
            return BotAPIError(429, self.description or f"Too Many Requests: retry after "
                                                        f"{retry_after}",
                               {"retry_after": retry_after})
        return BotAPIError(self.error_code,
                           self.description or _default_description(self.error_code))


@dataclass(frozen=True)
class _StoredFile:
    kind: str
    file: JSON
    file_path: str
    content: bytes


# --------------------------------------------------------------------------- the server


class FakeBotAPI:
    """The fake Bot API server and its simulated world; see the module docstring."""

    _METHOD_NAMES = {
        "getMe": "_get_me",
        "logOut": "_log_out",
        "close": "_log_out",
        "setWebhook": "_set_webhook",
        "deleteWebhook": "_delete_webhook",
        "getWebhookInfo": "_get_webhook_info",
        "setMyCommands": "_set_my_commands",
        "deleteMyCommands": "_delete_my_commands",
        "getMyCommands": "_get_my_commands",
        "getChat": "_get_chat",
        "getFile": "_get_file",
        "sendMessage": "_send_message",
        "sendVenue": "_send_venue",
        "sendLocation": "_send_location",
        "sendPhoto": "_send_photo",
        "sendDocument": "_send_document",
        "sendVoice": "_send_voice",
        "sendChatAction": "_send_chat_action",
        "editMessageText": "_edit_message_text",
        "editMessageReplyMarkup": "_edit_message_reply_markup",
        "answerCallbackQuery": "_answer_callback_query",
        "deleteMessage": "_delete_message",
        "deleteMessages": "_delete_messages",
        "copyMessage": "_copy_message",
        "forwardMessage": "_forward_message",
        "createForumTopic": "_create_forum_topic",
        "editForumTopic": "_edit_forum_topic",
        "closeForumTopic": "_close_forum_topic",
        "reopenForumTopic": "_reopen_forum_topic",
        "deleteForumTopic": "_delete_forum_topic",
    }

    def __init__(self, token: str = "123456:TEST-TOKEN", bot_username: str = "acollida_test_bot",
                 bot_id: int | None = None, first_update_id: int = 10_001, *,
                 webhook_retry_delay: float | None = None, concurrent_webhook: bool = False,
                 webhook_timeout: float = 10.0):
        """`webhook_retry_delay`: seconds before a failed webhook delivery is made again (None:
        it is dropped); `concurrent_webhook`: deliver to several chats at once; see the module
        docstring. `webhook_timeout`: seconds a delivery waits for the webhook's answer."""
        self.token = token
        self.webhook_retry_delay = webhook_retry_delay
        self.concurrent_webhook = concurrent_webhook
        self.webhook_timeout = webhook_timeout
        self.bot_username = bot_username
        self.bot_id = bot_id if bot_id is not None else int(token.split(":")[0])
        # Method names are case-insensitive in the Bot API.
        self._methods: dict[str, Callable[[JSON], Any]] = {
            name.lower(): getattr(self, handler) for name, handler in self._METHOD_NAMES.items()
        }
        self._lock = threading.RLock()
        self._chats: dict[int, _ChatState] = {}
        self._files: dict[str, _StoredFile] = {}
        self._updates: dict[int, JSON] = {}
        self._pending: list[_QueuedUpdate] = []
        self._webhook: _Webhook | None = None
        self._webhook_deliveries: list[WebhookDelivery] = []
        self._calls: list[_Call] = []
        self._failures: dict[str, _Failure] = {}  # by lower-case method name
        self._open_callback_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        # Telegram's update ids only grow; tests sharing a database start each fake further on.
        self._last_update_id = first_update_id - 1
        self._last_file_number = 0
        self._last_callback_number = 0
        self._last_story_number = 0
        self._last_poll_number = 0
        self._poll_generation = 0
        self._closing = False
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._startup_error: BaseException | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotAPI:
        """Starts the server thread and returns once the server listens."""
        if self._thread is not None:
            raise RuntimeError("FakeBotAPI is already running")
        listening = threading.Event()
        self._thread = threading.Thread(target=self._run_server, args=(listening,),
                                        name="FakeBotAPI", daemon=True)
        self._thread.start()
        listening.wait()
        if self._startup_error is not None:
            self._thread = None
            raise RuntimeError("FakeBotAPI could not start") from self._startup_error
        return self

    def stop(self) -> None:
        """Stops the server; pending long polls are answered first."""
        if self._thread is None:
            return
        with self._lock:
            loop, self._loop = self._loop, None
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join()
        self._thread = None
        self._port = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """For PTB's ``base_url``: PTB appends the token and ``/method``."""
        return f"http://127.0.0.1:{self._listening_port()}/bot"

    @property
    def base_file_url(self) -> str:
        """For PTB's ``base_file_url``: PTB appends the token and ``/file_path``."""
        return f"http://127.0.0.1:{self._listening_port()}/file/bot"

    def _listening_port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    def _run_server(self, listening: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._open())
        except BaseException as error:  # reported by start()
            self._startup_error = error
            loop.close()
            listening.set()
            return
        self._loop = loop
        listening.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._close())
            loop.close()

    async def _open(self) -> None:
        self._closing = False
        self._updates_arrived = asyncio.Event()
        # Updates waiting for the webhook, by lane (a chat, or one lane for all), and the task
        # delivering each lane; the lane's first update is the one being delivered.
        self._webhook_lanes: dict[int | None, collections.deque[JSON]] = {}
        self._lane_tasks: dict[int | None, asyncio.Task] = {}
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            connector=aiohttp.TCPConnector(limit=0))  # setWebhook's max_connections limits
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method_request)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file_request)
        # handler_cancellation: a long poll whose client went away must not linger.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]

    async def _close(self) -> None:
        self._closing = True
        self._updates_arrived.set()
        tasks = list(self._lane_tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._http.close()
        await self._runner.cleanup()

    def _call_in_loop(self, function: Callable[..., Any], *args: Any) -> None:
        """Runs `function` on the server loop, from any thread; no-op when not running."""
        with self._lock:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(function, *args)

    # ----------------------------------------------------------------- world

    def user(self, user_id: int, first_name: str, language_code: str = "ar",
             username: str | None = None) -> FakeUser:
        """A user to write in groups (private chats make their own user)."""
        return FakeUser(user_id, first_name, language_code, username)

    def private_chat(self, user_id: int, first_name: str, language_code: str = "ar",
                     username: str | None = None) -> FakeChat:
        """A private chat with a new user; the chat id is the user id, `chat.user` the user."""
        user = self.user(user_id, first_name, language_code, username)
        return self._add_chat(FakeChat(user_id, "private", user=user))

    def group(self, chat_id: int, title: str, is_forum: bool = False) -> FakeChat:
        """A supergroup with the bot in it; forums have topics."""
        return self._add_chat(FakeChat(chat_id, "supergroup", title=title, is_forum=is_forum))

    def _add_chat(self, chat: FakeChat) -> FakeChat:
        with self._lock:
            self._chats.setdefault(chat.id, _ChatState(chat)).chat = chat
        return chat

    def age_message(self, chat: int | FakeChat, message_id: int, hours: float) -> JSON:
        """Moves a message's ``date`` `hours` back, as if it was sent that much earlier (e.g.
        past the 48 hours deleteMessage allows); returns the message."""
        with self._lock:
            message = self._chats[_chat_id(chat)].messages.get(message_id)
            if message is None:
                raise ValueError(f"chat {_chat_id(chat)} has no message {message_id}")
            message["date"] -= round(hours * 3600)
            return copy.deepcopy(message)

    @property
    def bot_user(self) -> JSON:
        """The bot as a Bot API User."""
        first_name = self.bot_username.removesuffix("_bot").replace("_", " ").title()
        return {"id": self.bot_id, "is_bot": True, "first_name": first_name,
                "username": self.bot_username}

    # ----------------------------------------------------------------- injecting updates

    def user_sends(self, chat: FakeChat, user: FakeUser | FakeChat, text: str, *,
                   message_thread_id: int | None = None,
                   reply_to_message_id: int | None = None) -> JSON:
        """A text message from `user` (a user, or a private chat's handle) to the bot."""
        content: JSON = {"text": text}
        entities = _detected_entities(text)
        if entities:
            content["entities"] = entities
        return self._user_message(chat, user, content, message_thread_id, reply_to_message_id)

    def user_sends_photo(self, chat: FakeChat, user: FakeUser | FakeChat, *,
                         caption: str | None = None, content: bytes = b"\xff\xd8\xff fake jpeg",
                         message_thread_id: int | None = None) -> JSON:
        with self._lock:
            photo = [self._new_file("photo", content[:16], width=90, height=67),
                     self._new_file("photo", content, width=1280, height=960)]
        return self._user_message(chat, user, _with_caption({"photo": photo}, caption),
                                  message_thread_id)

    def user_sends_voice(self, chat: FakeChat, user: FakeUser | FakeChat, *, duration: int = 3,
                         content: bytes = b"OggS fake voice",
                         message_thread_id: int | None = None) -> JSON:
        with self._lock:
            voice = self._new_file("voice", content, duration=duration, mime_type="audio/ogg")
        return self._user_message(chat, user, {"voice": voice}, message_thread_id)

    def user_sends_sticker(self, chat: FakeChat, user: FakeUser | FakeChat, *,
                           emoji: str = "👍", message_thread_id: int | None = None) -> JSON:
        with self._lock:
            sticker = self._new_file("sticker", b"RIFF fake webp", type="regular", width=512,
                                     height=512, is_animated=False, is_video=False, emoji=emoji)
        return self._user_message(chat, user, {"sticker": sticker}, message_thread_id)

    def user_sends_document(self, chat: FakeChat, user: FakeUser | FakeChat, *,
                            file_name: str = "document.pdf", mime_type: str = "application/pdf",
                            content: bytes = b"%PDF-1.4 fake", caption: str | None = None,
                            message_thread_id: int | None = None) -> JSON:
        with self._lock:
            document = self._new_file("document", content, file_name=file_name,
                                      mime_type=mime_type)
        return self._user_message(chat, user, _with_caption({"document": document}, caption),
                                  message_thread_id)

    def user_sends_dice(self, chat: FakeChat, user: FakeUser | FakeChat, emoji: str = "🎲",
                        value: int | None = None, *,
                        message_thread_id: int | None = None) -> JSON:
        """A dice the user threw; `value` None: a random one, as Telegram rolls it."""
        highest = DICE_MAX_VALUES.get(emoji)
        if highest is None:
            raise ValueError(f"{emoji!r} is not a dice emoji; one of {''.join(DICE_MAX_VALUES)}")
        if value is None:
            value = random.randint(1, highest)
        if not 1 <= value <= highest:
            raise ValueError(f"a {emoji} shows 1 to {highest}, not {value}")
        return self._user_message(chat, user, {"dice": {"emoji": emoji, "value": value}},
                                  message_thread_id)

    def user_sends_story(self, chat: FakeChat, user: FakeUser | FakeChat, *,
                         story_chat: FakeChat | None = None, story_id: int | None = None,
                         message_thread_id: int | None = None) -> JSON:
        """A story forwarded to the bot: the message has only ``story`` {chat, id}, no text.
        The story was posted by `story_chat`, by default the sender's own (private) chat."""
        if story_chat is None:
            sender = _as_user(user)
            story_chat = FakeChat(sender.id, "private", user=sender)
        with self._lock:
            if story_id is None:
                self._last_story_number += 1
                story_id = self._last_story_number
        return self._user_message(chat, user, {"story": {"chat": story_chat.as_json(),
                                                         "id": story_id}}, message_thread_id)

    def user_sends_poll(self, chat: FakeChat, user: FakeUser | FakeChat,
                        question: str = "Which day suits you?",
                        options: Sequence[str] = ("Monday", "Tuesday"), *,
                        is_anonymous: bool = True, allows_multiple_answers: bool = False,
                        message_thread_id: int | None = None) -> JSON:
        """A new regular poll from the user, nobody voted yet. It carries what PTB 22.8
        requires: options with ``persistent_id`` (Bot API 9.6), ``allows_revoting`` and
        ``members_only`` besides the older fields."""
        if not question.strip():
            raise ValueError("a poll needs a question")
        if not 1 <= len(options) <= MAX_POLL_OPTIONS:
            raise ValueError(f"a poll has 1 to {MAX_POLL_OPTIONS} options, not {len(options)}")
        with self._lock:
            self._last_poll_number += 1
            poll_id = str(5_000_000_000_000_000_000 + self._last_poll_number)
        poll = {
            "id": poll_id,
            "question": question,
            "options": [{"persistent_id": str(index), "text": text, "voter_count": 0}
                        for index, text in enumerate(options)],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": is_anonymous,
            "type": "regular",
            "allows_multiple_answers": allows_multiple_answers,
            "allows_revoting": True,
            "members_only": False,
        }
        return self._user_message(chat, user, {"poll": poll}, message_thread_id)

    def user_edits(self, chat: FakeChat, user: FakeUser | FakeChat, message_id: int,
                   new_text: str) -> JSON:
        """The user edits a text message they sent: the stored message changes and an
        ``edited_message`` update, the whole message with its ``edit_date``, arrives."""
        with self._lock:
            message = self._chats[chat.id].messages.get(message_id)
            if message is None:
                raise ValueError(f"chat {chat.id} has no message {message_id}")
            if message["from"]["id"] != _as_user(user).id or "text" not in message:
                raise ValueError(f"message {message_id} is not a text of user "
                                 f"{_as_user(user).id}")
            message.pop("entities", None)
            message["text"] = new_text
            entities = _detected_entities(new_text)
            if entities:
                message["entities"] = entities
            message["edit_date"] = int(time.time())
            self.push_update({"edited_message": message})
            return copy.deepcopy(message)

    def user_presses(self, chat: FakeChat, user: FakeUser | FakeChat, message_id: int,
                     callback_data: str) -> str:
        """A press on an inline button of message `message_id`; returns the callback query id."""
        with self._lock:
            message = self._chats[chat.id].messages.get(message_id)
            if message is None:
                raise ValueError(f"chat {chat.id} has no message {message_id}")
            self._last_callback_number += 1
            query_id = str(4_000_000_000_000_000 + self._last_callback_number)
            self._open_callback_queries.add(query_id)
            self.push_update({"callback_query": {
                "id": query_id,
                "from": _as_user(user).as_json(),
                "message": message,
                "chat_instance": f"instance{chat.id}",
                "data": callback_data,
            }})
        return query_id

    def push_update(self, update: JSON) -> JSON:
        """Queues a raw update (an ``update_id`` is added when missing); returns it."""
        with self._lock:
            update = copy.deepcopy(update)
            update.setdefault("update_id", self._last_update_id + 1)
            self._last_update_id = max(self._last_update_id, update["update_id"])
            self._updates[update["update_id"]] = update
            self._route(update)
        return copy.deepcopy(update)

    def redeliver(self, update_id: int) -> None:
        """Sends an update again, even if it was confirmed, as Telegram sometimes does."""
        with self._lock:
            self._pending = [queued for queued in self._pending if queued.update_id != update_id]
            self._route(self._updates[update_id])

    def _route(self, update: JSON) -> None:
        """To the webhook if one is set, else to the getUpdates queue. Caller holds the lock."""
        if self._webhook is not None:
            self._call_in_loop(self._queue_for_webhook, update)
            return
        self._pending.append(_QueuedUpdate(update))
        self._pending.sort(key=lambda queued: queued.update_id)
        self._call_in_loop(self._wake_pollers)

    def _wake_pollers(self) -> None:
        self._updates_arrived.set()

    def _user_message(self, chat: FakeChat, user: FakeUser | FakeChat, content: JSON,
                      message_thread_id: int | None = None,
                      reply_to_message_id: int | None = None) -> JSON:
        with self._lock:
            state = self._chats[chat.id]
            reply_to = None
            if reply_to_message_id is not None:
                reply_to = self._reply_target(state, {"reply_to_message_id": reply_to_message_id})
            message = self._store_message(state, _as_user(user).as_json(), content,
                                          self._thread_id(state, message_thread_id), reply_to)
            self.push_update({"message": message})
            return copy.deepcopy(message)

    # ----------------------------------------------------------------- webhook delivery

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._webhook_deliveries)

    def post_to_webhook(self, update: JSON, *, secret: str | None,
                        timeout: float = 10.0) -> int | None:
        """POSTs `update` to the webhook with header value `secret` (None: no header) and
        returns the HTTP status. Blocks: from the loop that runs the receiver, use
        `async_post_to_webhook`."""
        status, _error = self._schedule_webhook_post(update, secret).result(timeout)
        return status

    async def async_post_to_webhook(self, update: JSON, *, secret: str | None) -> int | None:
        status, _error = await asyncio.wrap_future(self._schedule_webhook_post(update, secret))
        return status

    def _schedule_webhook_post(self, update: JSON, secret: str | None) -> Future:
        with self._lock:
            if self._webhook is None or self._loop is None:
                raise RuntimeError("no webhook is set")
            post = self._post_update(self._webhook.url, update, secret)
            return asyncio.run_coroutine_threadsafe(post, self._loop)

    def _queue_for_webhook(self, update: JSON) -> None:
        """On the server loop: puts the update last in its lane, which a task delivers."""
        key = _chat_key(update) if self.concurrent_webhook else None
        lane = self._webhook_lanes.setdefault(key, collections.deque())
        lane.append(update)
        if key not in self._lane_tasks:
            self._lane_tasks[key] = asyncio.create_task(self._deliver_lane(key, lane))

    async def _deliver_lane(self, key: int | None, lane: collections.deque[JSON]) -> None:
        """POSTs the lane's updates one by one, in order; each next one only once the previous
        was accepted (or, without retries, failed)."""
        try:
            while lane:
                update = lane[0]
                with self._lock:
                    webhook = self._webhook
                    if webhook is None:  # deleted meanwhile: the updates wait for getUpdates
                        for waiting in lane:
                            self._route(waiting)
                        lane.clear()
                        return
                async with webhook.connections:
                    status, error = await self._post_update(webhook.url, update,
                                                            webhook.secret_token)
                with self._lock:
                    self._webhook_deliveries.append(
                        WebhookDelivery(update["update_id"], status, error))
                    if error is not None:
                        webhook.last_error_date = int(time.time())
                        webhook.last_error_message = error
                if error is not None and self.webhook_retry_delay is not None:
                    await asyncio.sleep(self.webhook_retry_delay)
                elif lane and lane[0] is update:  # not dropped by deleteWebhook meanwhile
                    lane.popleft()
        finally:
            del self._lane_tasks[key]
            del self._webhook_lanes[key]

    async def _post_update(self, url: str, update: JSON,
                           secret: str | None) -> tuple[int | None, str | None]:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        try:
            async with self._http.post(url, json=update, headers=headers) as response:
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return None, f"Connection failed: {error!r}"
        if 200 <= response.status < 300:
            return response.status, None
        error = f"Wrong response from the webhook: {response.status} {response.reason}"
        return response.status, error

    # ----------------------------------------------------------------- failures on demand

    def fail_next(self, method: str, times: int = 1, retry_after: int = 2,
                  error_code: int = 429, description: str | None = None) -> None:
        """The next `times` calls of `method` (any method, getUpdates too) answer an error
        instead of running: by default 429 Too Many Requests with ``retry_after``; else
        `error_code` with `description` as Telegram's full text (e.g. "Bad Request: chat not
        found"), or a default one: 500 "Internal Server Error", 502 "Bad Gateway", 403
        "Forbidden: bot was blocked by the user". `retry_after` only goes with 429, as with
        Telegram. Replaces an earlier failure of `method`."""
        if times < 0:
            raise ValueError("times must not be negative")
        self._set_failure(method, _Failure(error_code, description, retry_after, times=times))

    def fail_for(self, method: str, seconds: float, error_code: int = 500,
                 retry_after: int | None = None, description: str | None = None) -> None:
        """Every call of `method` answers the error (see `fail_next`) for the next `seconds`
        seconds of wall clock, then the method works again. A 429 without `retry_after` says
        the seconds left in the window, rounded up. Replaces an earlier failure of `method`."""
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        until = time.monotonic() + seconds
        self._set_failure(method, _Failure(error_code, description, retry_after, until=until))

    def clear_failures(self, method: str | None = None) -> None:
        """Forgets the failures asked for, of one method or (None) of all."""
        with self._lock:
            if method is None:
                self._failures.clear()
            else:
                self._failures.pop(method.lower(), None)

    def _set_failure(self, method: str, failure: _Failure) -> None:
        if not 400 <= failure.error_code <= 599:
            raise ValueError(f"{failure.error_code} is not an error code Telegram answers")
        with self._lock:
            self._failures[method.lower()] = failure

    def _raise_if_failing(self, method: str) -> None:
        """Raises the error asked for `method` (lower case), if any. Caller holds the lock."""
        failure = self._failures.get(method)
        if failure is None:
            return
        now = time.monotonic()
        if failure.is_over(now):
            del self._failures[method]
            return
        raise failure.error(now)

    # ----------------------------------------------------------------- inspection

    @property
    def calls(self) -> list[tuple[str, JSON]]:
        """Every method call with a valid token, in order: (method name as sent, params).
        Refused calls are in it too, so tests can count attempts; see `accepted_calls_of`."""
        with self._lock:
            return copy.deepcopy([(call.method, call.params) for call in self._calls])

    @property
    def updates(self) -> list[JSON]:
        """Every update the fake made or was given, in order (e.g. to `redeliver` one)."""
        with self._lock:
            return copy.deepcopy(list(self._updates.values()))

    def calls_of(self, method: str) -> list[JSON]:
        """The params of every call of `method` (any case), accepted or refused."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def accepted_calls_of(self, method: str) -> list[JSON]:
        """The params of the calls of `method` answered ``ok``: not those refused, by a failure
        asked for or a real error (e.g. chat not found), nor a getUpdates still waiting."""
        with self._lock:
            return copy.deepcopy([call.params for call in self._calls
                                  if call.method.lower() == method.lower() and call.accepted])

    def deleted_message_ids(self, chat: int | FakeChat) -> list[int]:
        """The ids of the messages deleted in a chat, in the order they went: by deleteMessage,
        deleteMessages, or with their forum topic."""
        with self._lock:
            state = self._chats.get(_chat_id(chat))
            return list(state.deleted_message_ids) if state is not None else []

    def messages_to(self, chat: int | FakeChat) -> list[JSON]:
        """The bot's messages in a chat, as they are now (edits applied, deletions gone)."""
        with self._lock:
            state = self._chats.get(_chat_id(chat))
            if state is None:
                return []
            return [copy.deepcopy(message) for message in state.messages.values()
                    if message["from"]["id"] == self.bot_id]

    def texts_to(self, chat: int | FakeChat) -> list[str]:
        return [message["text"] for message in self.messages_to(chat) if "text" in message]

    def last_message_to(self, chat: int | FakeChat) -> JSON | None:
        messages = self.messages_to(chat)
        return messages[-1] if messages else None

    def topics(self, chat: int | FakeChat) -> list[ForumTopic]:
        with self._lock:
            return [copy.copy(topic) for topic in self._chats[_chat_id(chat)].topics.values()]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The commands set with setMyCommands for a scope (default scope if None)."""
        with self._lock:
            return copy.deepcopy(self._commands.get(_commands_key(scope, language_code), []))

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """Polls `predicate` until it returns something truthy, and returns that."""
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(0.02)
        return result

    async def async_wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.02)
        return result

    def wait_for_messages(self, chat: int | FakeChat, count: int,
                          timeout: float = 10.0) -> list[JSON]:
        """Waits until the bot sent at least `count` messages to `chat`; returns them all."""
        try:
            return self.wait_for(lambda: self._at_least(chat, count), timeout)
        except TimeoutError:
            raise self._too_few_messages(chat, count, timeout) from None

    async def async_wait_for_messages(self, chat: int | FakeChat, count: int,
                                      timeout: float = 10.0) -> list[JSON]:
        try:
            return await self.async_wait_for(lambda: self._at_least(chat, count), timeout)
        except TimeoutError:
            raise self._too_few_messages(chat, count, timeout) from None

    def _at_least(self, chat: int | FakeChat, count: int) -> list[JSON]:
        messages = self.messages_to(chat)
        return messages if len(messages) >= count else []

    def _too_few_messages(self, chat: int | FakeChat, count: int, timeout: float) -> TimeoutError:
        return TimeoutError(f"expected {count} messages to chat {_chat_id(chat)} within "
                            f"{timeout}s, got {self.messages_to(chat)}")

    # ----------------------------------------------------------------- HTTP

    async def _handle_method_request(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(BotAPIError(401, "Unauthorized"))
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except BotAPIError as error:
            return _error_response(error)
        call = _Call(method, params)
        with self._lock:
            self._calls.append(call)
        try:
            result = await self._call(method.lower(), params)
        except BotAPIError as error:
            with self._lock:
                call.answered, call.error_code = True, error.error_code
            return _error_response(error)
        with self._lock:
            call.answered = True
        return web.json_response({"ok": True, "result": result})

    async def _call(self, method: str, params: JSON) -> Any:
        if method == "getupdates":
            with self._lock:
                self._raise_if_failing(method)
            return await self._get_updates(params)
        handler = self._methods.get(method)
        if handler is None:
            raise BotAPIError(404, "Not Found")
        with self._lock:
            self._raise_if_failing(method)
            return handler(params)

    async def _handle_file_request(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(BotAPIError(401, "Unauthorized"))
        with self._lock:
            stored = next((stored for stored in self._files.values()
                           if stored.file_path == request.match_info["file_path"]), None)
        if stored is None:
            return _error_response(BotAPIError(404, "Not Found"))
        return web.Response(body=stored.content)

    # ----------------------------------------------------------------- getUpdates

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Long polling: answers as soon as there are updates, else after `timeout` seconds."""
        offset = params.get("offset", 0)
        limit = min(max(params.get("limit", 100), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(params.get("timeout", 0), 0)
        with self._lock:
            self._poll_generation += 1
            generation = self._poll_generation
        self._updates_arrived.set()  # a poll still waiting is cut off, as by Telegram
        while True:
            self._updates_arrived.clear()
            with self._lock:
                if self._webhook is not None:
                    raise BotAPIError(409, "Conflict: can't use getUpdates method while webhook "
                                           "is active; use deleteWebhook to delete the webhook "
                                           "first")
                if generation != self._poll_generation:
                    raise BotAPIError(409, "Conflict: terminated by other getUpdates request; "
                                           "make sure that only one bot instance is running")
                updates = self._take_updates(offset, limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self._closing:
                return updates
            try:
                await asyncio.wait_for(self._updates_arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def _take_updates(self, offset: int, limit: int) -> list[JSON]:
        """Drops the updates `offset` confirms, then hands out the next ones."""
        if offset < 0:  # the last -offset updates; all previous ones are forgotten
            self._pending = self._pending[offset:]
        else:
            self._pending = [queued for queued in self._pending
                             if not (queued.delivered and queued.update_id < offset)]
        batch = self._pending[:limit]
        for queued in batch:
            queued.delivered = True
        return [copy.deepcopy(queued.update) for queued in batch]

    # ----------------------------------------------------------------- bot, webhook, commands

    def _get_me(self, params: JSON) -> JSON:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    def _log_out(self, params: JSON) -> bool:
        return True

    def _set_webhook(self, params: JSON) -> bool:
        if not params.get("url"):
            return self._delete_webhook(params)
        self._webhook = _Webhook(params["url"], params.get("secret_token"),
                                 params.get("max_connections", 40), params.get("allowed_updates"))
        waiting, self._pending = self._pending, []
        if not params.get("drop_pending_updates"):
            for queued in waiting:
                self._route(queued.update)
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._pending = []
            for lane in self._webhook_lanes.values():
                lane.clear()
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        webhook = self._webhook
        if webhook is None:
            return {"url": "", "has_custom_certificate": False,
                    "pending_update_count": len(self._pending)}
        info: JSON = {"url": webhook.url, "has_custom_certificate": False,
                      "pending_update_count": sum(map(len, self._webhook_lanes.values())),
                      "max_connections": webhook.max_connections, "ip_address": "127.0.0.1"}
        if webhook.allowed_updates:
            info["allowed_updates"] = webhook.allowed_updates
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
        return info

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not BOT_COMMAND_NAME.fullmatch(command.get("command", "")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise bad_request("command description is invalid")
        key = _commands_key(params.get("scope"), params.get("language_code", ""))
        self._commands[key] = commands
        return True

    def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(_commands_key(params.get("scope"), params.get("language_code", "")),
                           None)
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        key = _commands_key(params.get("scope"), params.get("language_code", ""))
        return self._commands.get(key, [])

    def _get_chat(self, params: JSON) -> JSON:
        chat = self._chat_for(params).chat
        gift_types = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                      "premium_subscription": False, "gifts_from_channels": False}
        return {**chat.as_json(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gift_types}

    def _get_file(self, params: JSON) -> JSON:
        stored = self._files.get(params.get("file_id", ""))
        if stored is None:
            raise bad_request("invalid file_id")
        return {"file_id": stored.file["file_id"], "file_unique_id": stored.file["file_unique_id"],
                "file_size": len(stored.content), "file_path": stored.file_path}

    # ----------------------------------------------------------------- sending

    def _send_message(self, params: JSON) -> JSON:
        state = self._chat_for(params)
        text = _rendered_text(params.get("text", ""), params.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        content: JSON = {"text": text}
        if params.get("entities"):
            content["entities"] = params["entities"]
        return self._send(state, params, content)

    def _send_venue(self, params: JSON) -> JSON:
        state = self._chat_for(params)
        location = _location(params)
        venue: JSON = {"location": location, "title": _required(params, "title"),
                       "address": _required(params, "address")}
        for optional in ("foursquare_id", "foursquare_type", "google_place_id",
                         "google_place_type"):
            if params.get(optional):
                venue[optional] = params[optional]
        return self._send(state, params, {"venue": venue, "location": location})

    def _send_location(self, params: JSON) -> JSON:
        state = self._chat_for(params)
        location = _location(params)
        if "horizontal_accuracy" in params:
            location["horizontal_accuracy"] = params["horizontal_accuracy"]
        return self._send(state, params, {"location": location})

    def _send_photo(self, params: JSON) -> JSON:
        return self._send_media("photo", params)

    def _send_document(self, params: JSON) -> JSON:
        return self._send_media("document", params)

    def _send_voice(self, params: JSON) -> JSON:
        return self._send_media("voice", params)

    def _send_media(self, kind: str, params: JSON) -> JSON:
        state = self._chat_for(params)
        media = self._media_file(kind, params.get(kind))
        content = {kind: [media] if kind == "photo" else media}
        if params.get("caption"):
            caption = _rendered_text(params["caption"], params.get("parse_mode"))
            if len(caption) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
            content["caption"] = caption
        return self._send(state, params, content)

    def _send_chat_action(self, params: JSON) -> bool:
        self._chat_for(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _copy_message(self, params: JSON) -> JSON:
        target = self._chat_for(params)
        source = self._source_message(params, "message to copy not found")
        content = {key: source[key] for key in CONTENT_FIELDS if key in source}
        if "caption" in params:
            content.pop("caption_entities", None)
            content["caption"] = _rendered_text(params["caption"], params.get("parse_mode"))
        return {"message_id": self._send(target, params, content)["message_id"]}

    def _forward_message(self, params: JSON) -> JSON:
        target = self._chat_for(params)
        source = self._source_message(params, "message to forward not found")
        content = {key: source[key] for key in CONTENT_FIELDS if key in source}
        content["forward_origin"] = {"type": "user", "sender_user": source["from"],
                                     "date": source["date"]}
        return self._send(target, params, content)

    def _source_message(self, params: JSON, not_found: str) -> JSON:
        source = self._chat_for(params, "from_chat_id").messages.get(params.get("message_id"))
        if source is None:
            raise bad_request(not_found)
        return source

    def _send(self, state: _ChatState, params: JSON, content: JSON) -> JSON:
        """Stores a message from the bot built from `content` and the common parameters."""
        thread_id = self._thread_id(state, params.get("message_thread_id"))
        reply_to = self._reply_target(state, params)
        content = {**content, **_inline_markup(params.get("reply_markup"))}
        message = self._store_message(state, self.bot_user, content, thread_id, reply_to)
        return copy.deepcopy(message)

    def _store_message(self, state: _ChatState, sender: JSON, content: JSON,
                       thread_id: int | None, reply_to: JSON | None) -> JSON:
        message: JSON = {"message_id": state.next_message_id(), "from": sender,
                         "chat": state.chat.as_json(), "date": int(time.time())}
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        if reply_to is not None:
            message["reply_to_message"] = {key: value for key, value in reply_to.items()
                                           if key != "reply_to_message"}
        message.update(copy.deepcopy(content))
        state.messages[message["message_id"]] = message
        return message

    def _chat_for(self, params: JSON, key: str = "chat_id") -> _ChatState:
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise bad_request(f"{key} is empty")
        state = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if state is None:
            raise bad_request("chat not found")
        return state

    def _thread_id(self, state: _ChatState, message_thread_id: int | None) -> int | None:
        """The topic a message goes to; thread ids mean nothing outside forums."""
        if message_thread_id is None or not state.chat.is_forum:
            return None
        if message_thread_id not in state.topics:
            raise bad_request("message thread not found")
        return message_thread_id

    def _reply_target(self, state: _ChatState, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {"message_id": params["reply_to_message_id"],
                     "allow_sending_without_reply": params.get("allow_sending_without_reply")}
        if reply is None:
            return None
        target = state.messages.get(reply.get("message_id"))
        if target is None and not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
        return target

    # ----------------------------------------------------------------- files

    def _new_file(self, kind: str, content: bytes, **fields: Any) -> JSON:
        """A file users (or the bot's uploads) brought in; returns its Bot API object."""
        self._last_file_number += 1
        number = self._last_file_number
        file_id = f"fake-{kind}-{number:06d}"
        extension = FILE_EXTENSIONS[kind] or _suffix(fields.get("file_name", ""))
        file = {"file_id": file_id, "file_unique_id": f"unique-{number:06d}",
                "file_size": len(content), **fields}
        self._files[file_id] = _StoredFile(kind, file, f"{kind}s/file_{number}{extension}",
                                           content)
        return file

    def _media_file(self, kind: str, value: Any) -> JSON:
        """The file object for what the bot sent as `kind`: an upload, a URL or a file id."""
        if isinstance(value, UploadedFile):
            return self._new_file(kind, value.content, **_upload_fields(kind, value.filename))
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        if value.startswith(("http://", "https://")):
            return self._new_file(kind, b"downloaded " + value.encode(),
                                  **_upload_fields(kind, value.rsplit("/", 1)[-1]))
        stored = self._files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored.file

    # ----------------------------------------------------------------- editing

    def _edit_message_text(self, params: JSON) -> JSON:
        state = self._chat_for(params)
        message = self._bot_message(state, params.get("message_id"), "message to edit not found")
        text = _rendered_text(params.get("text", ""), params.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        edited = {key: value for key, value in message.items()
                  if key not in ("entities", "reply_markup")}
        edited["text"] = text
        if params.get("entities"):
            edited["entities"] = params["entities"]
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        edited.update(_inline_markup(params.get("reply_markup")))
        return self._replace_message(state, message, edited)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        state = self._chat_for(params)
        message = self._bot_message(state, params.get("message_id"), "message to edit not found")
        edited = {key: value for key, value in message.items() if key != "reply_markup"}
        edited.update(_inline_markup(params.get("reply_markup")))
        return self._replace_message(state, message, edited)

    def _replace_message(self, state: _ChatState, message: JSON, edited: JSON) -> JSON:
        if _without_edit_date(edited) == _without_edit_date(message):
            raise bad_request("message is not modified: specified new message content and reply "
                              "markup are exactly the same as a current content and reply "
                              "markup of the message")
        edited["edit_date"] = int(time.time())
        state.messages[message["message_id"]] = edited
        return copy.deepcopy(edited)

    def _bot_message(self, state: _ChatState, message_id: int | None, not_found: str) -> JSON:
        message = state.messages.get(message_id)
        if message is None:
            raise bad_request(not_found)
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _delete_message(self, params: JSON) -> bool:
        state = self._chat_for(params)
        message = state.messages.get(params.get("message_id"))
        if message is None:
            raise bad_request("message to delete not found")
        if not _deletable(message):
            raise bad_request("message can't be deleted for everyone")
        self._forget_messages(state, [message["message_id"]])
        return True

    def _delete_messages(self, params: JSON) -> bool:
        """Deletes what it can: "If some of the specified messages can't be found, they are
        skipped." Messages too old for deleteMessage are skipped too, and stay."""
        state = self._chat_for(params)
        message_ids = params.get("message_ids")
        if message_ids in (None, "", []):
            raise bad_request("message identifiers are not specified")
        if not isinstance(message_ids, list):
            raise bad_request("expected an Array of message identifiers")
        if len(message_ids) > MAX_DELETE_MESSAGES:
            raise bad_request("too many message identifiers specified")
        if not all(isinstance(message_id, int) and message_id > 0
                   for message_id in message_ids):
            raise bad_request("invalid message identifier specified")
        self._forget_messages(state, [
            message_id for message_id in dict.fromkeys(message_ids)
            if message_id in state.messages and _deletable(state.messages[message_id])])
        return True

    def _forget_messages(self, state: _ChatState, message_ids: list[int]) -> None:
        for message_id in message_ids:
            del state.messages[message_id]
            state.deleted_message_ids.append(message_id)

    def _answer_callback_query(self, params: JSON) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._open_callback_queries:
            raise bad_request("query is too old and response timeout expired or query ID is "
                              "invalid")
        self._open_callback_queries.remove(query_id)
        return True

    # ----------------------------------------------------------------- forum topics

    def _create_forum_topic(self, params: JSON) -> JSON:
        state = self._chat_for(params)
        if not state.chat.is_forum:
            raise bad_request("the chat is not a forum")
        if not params.get("name"):
            raise bad_request("TOPIC_TITLE_EMPTY")
        topic = ForumTopic(state.next_message_id(), params["name"],
                           params.get("icon_color", DEFAULT_TOPIC_ICON_COLOR),
                           params.get("icon_custom_emoji_id"))
        state.topics[topic.message_thread_id] = topic
        return topic.as_json()

    def _edit_forum_topic(self, params: JSON) -> bool:
        topic = self._topic_for(params)
        name = params.get("name") or topic.name
        emoji = params.get("icon_custom_emoji_id", topic.icon_custom_emoji_id)
        if (name, emoji) == (topic.name, topic.icon_custom_emoji_id):
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name, topic.icon_custom_emoji_id = name, emoji
        return True

    def _close_forum_topic(self, params: JSON) -> bool:
        return self._set_topic_closed(self._topic_for(params), True)

    def _reopen_forum_topic(self, params: JSON) -> bool:
        return self._set_topic_closed(self._topic_for(params), False)

    def _set_topic_closed(self, topic: ForumTopic, closed: bool) -> bool:
        if topic.is_closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.is_closed = closed
        return True

    def _delete_forum_topic(self, params: JSON) -> bool:
        state = self._chat_for(params)
        thread_id = self._topic_for(params).message_thread_id
        del state.topics[thread_id]
        # Every message of the topic goes with it, users' and the bot's, whatever their age.
        self._forget_messages(state, [message_id for message_id, message in state.messages.items()
                                      if message.get("message_thread_id") == thread_id])
        return True

    def _topic_for(self, params: JSON) -> ForumTopic:
        state = self._chat_for(params)
        if not state.chat.is_forum:
            raise bad_request("the chat is not a forum")
        topic = state.topics.get(params.get("message_thread_id"))
        if topic is None:
            raise bad_request("message thread not found")
        return topic


# --------------------------------------------------------------------------- helpers


async def _read_params(request: web.Request) -> JSON:
    """The call's parameters, from the query string and a JSON, urlencoded or multipart body."""
    raw: JSON = dict(request.query)
    if request.content_type == "application/json":
        try:
            raw.update(await request.json())
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
    elif request.body_exists:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                value = UploadedFile(value.filename, value.file.read())
            raw[name] = value
    return {name: _decoded(name, value) for name, value in raw.items()}


def _decoded(name: str, value: Any) -> Any:
    """A form value as the Bot API understands it: JSON for complex fields, numbers, bools."""
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in INT_FIELDS and INTEGER.fullmatch(value):
        return int(value)
    if name in FLOAT_FIELDS:
        try:
            return float(value)
        except ValueError:
            raise bad_request(f"wrong {name}") from None
    if name in BOOL_FIELDS and value in ("true", "false"):
        return value == "true"
    return value


def _default_description(error_code: int) -> str:
    if error_code in ERROR_DESCRIPTIONS:
        return ERROR_DESCRIPTIONS[error_code]
    try:
        return HTTPStatus(error_code).phrase
    except ValueError:
        return f"Error {error_code}"


def _deletable(message: JSON) -> bool:
    """Whether deleteMessage may delete `message`: only while it is younger than 48 hours."""
    return time.time() - message["date"] < MAX_DELETABLE_AGE_SECONDS


def _error_response(error: BotAPIError) -> web.Response:
    return web.json_response(error.as_json(), status=error.error_code)


def _as_user(user: FakeUser | FakeChat) -> FakeUser:
    if isinstance(user, FakeChat):
        if user.user is None:
            raise ValueError(f"chat {user.id} is not a private chat, so it is not a user")
        return user.user
    return user


def _chat_key(update: JSON) -> int | None:
    """The chat an update is about; updates about no chat share one lane."""
    for kind in ("message", "edited_message"):
        if kind in update:
            return update[kind]["chat"]["id"]
    message = update.get("callback_query", {}).get("message")
    return message["chat"]["id"] if message else None


def _chat_id(chat: int | FakeChat) -> int:
    return chat.id if isinstance(chat, FakeChat) else chat


def _commands_key(scope: JSON | None, language_code: str) -> tuple[str, str]:
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""


def _with_caption(content: JSON, caption: str | None) -> JSON:
    return {**content, "caption": caption} if caption else content


def _suffix(file_name: str) -> str:
    return "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""


def _upload_fields(kind: str, file_name: str) -> JSON:
    """Plausible metadata for a file the bot uploaded or sent by URL."""
    if kind == "photo":
        return {"width": 1280, "height": 960}
    if kind == "voice":
        return {"duration": 1, "mime_type": "audio/ogg"}
    return {"file_name": file_name or "file", "mime_type": "application/octet-stream"}


def _required(params: JSON, name: str) -> Any:
    if params.get(name) in (None, ""):
        raise bad_request(f"{name} is empty")
    return params[name]


def _location(params: JSON) -> JSON:
    return {"latitude": _required(params, "latitude"),
            "longitude": _required(params, "longitude")}


def _without_edit_date(message: JSON) -> JSON:
    return {key: value for key, value in message.items() if key != "edit_date"}


def _inline_markup(markup: Any) -> JSON:
    """The ``reply_markup`` a sent message shows: Telegram echoes only inline keyboards."""
    if markup is None:
        return {}
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return {}
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
            if set(button) <= {"text"}:
                raise bad_request("text buttons are unallowed in the inline keyboard")
    return {"reply_markup": markup}


def _utf16_length(text: str) -> int:
    """Entity offsets and lengths count UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _detected_entities(text: str) -> list[JSON]:
    """The bot_command and mention entities Telegram finds in a user's text."""
    found = [("bot_command", match) for match in COMMAND_PATTERN.finditer(text)]
    found += [("mention", match) for match in MENTION_PATTERN.finditer(text)]
    return [{"type": kind, "offset": _utf16_length(text[:match.start()]),
             "length": _utf16_length(match.group())}
            for kind, match in sorted(found, key=lambda item: item[1].start())]


def _rendered_text(text: str, parse_mode: str | None) -> str:
    """The text a message shows once its markup is parsed."""
    if not parse_mode:
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return _TelegramHTML(text).visible_text()
    if mode == "markdownv2":
        return _markdown_text(text, markers="*_~|`")
    if mode == "markdown":
        return _markdown_text(text, markers="*_`")
    raise bad_request(f"unsupported parse_mode {parse_mode}")


def _markdown_text(text: str, markers: str) -> str:
    """Roughly the visible text: links keep their label, markers and escapes go."""
    text = MARKDOWN_LINK.sub(r"\1", text)
    text = re.sub(rf"(?<!\\)[{re.escape(markers)}]", "", text)
    return re.sub(r"\\(.)", r"\1", text)


class _TelegramHTML(HTMLParser):
    """The visible text of Telegram-flavoured HTML; rejects what Telegram rejects, mostly."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self._source = source
        self._text: list[str] = []
        self._open_tags: list[str] = []

    def visible_text(self) -> str:
        self.feed(self._source)
        self.close()
        if self._open_tags:
            unclosed = self._open_tags[-1]
            raise self._error(f'Can\'t find end tag corresponding to start tag "{unclosed}"')
        return "".join(self._text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise self._error(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        self._open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self._open_tags or self._open_tags[-1] != tag:
            raise self._error(f"Unexpected end tag at byte offset {self._byte_offset()}")
        self._open_tags.pop()

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        lines = self._source.splitlines(keepends=True)
        position = sum(len(text) for text in lines[: line - 1]) + column
        return len(self._source[:position].encode())

    @staticmethod
    def _error(reason: str) -> BotAPIError:
        return bad_request(f"can't parse entities: {reason}")
