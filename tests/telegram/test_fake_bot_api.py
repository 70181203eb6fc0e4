"""The fake Bot API, driven by the real python-telegram-bot (and raw HTTP where PTB can't go)."""
from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from telegram import (Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Poll,
                      ReplyParameters, Update)
from telegram.error import (BadRequest, Conflict, Forbidden, InvalidToken, NetworkError,
                            RetryAfter)
from telegram.ext import (Application, CallbackQueryHandler, CommandHandler, MessageHandler,
                          filters)

from tests.telegram.fake_bot_api import FakeBotAPI

GROUP_ID = -1001000000001
FORUM_ID = -1001000000002
ONE_BUTTON = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="answer:yes")]])


@pytest.fixture
def fake():
    with FakeBotAPI() as api:
        yield api


@pytest.fixture
async def bot(fake):
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot:
        yield bot


@pytest.fixture
def alice(fake):
    return fake.private_chat(1001, "Alice", username="alice_a")


# ------------------------------------------------------------------ plain Bot API calls


async def test_get_me_describes_the_bot(bot, fake):
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (123456, "acollida_test_bot", True)
    assert [name for name, _params in fake.calls] == ["getMe", "getMe"]  # initialize() too


async def test_a_wrong_token_is_unauthorized(fake):
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass
    raw = httpx.post(f"{fake.base_url}999:WRONG/getMe")

    assert raw.status_code == 401
    assert raw.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert fake.calls == []


def test_an_unknown_method_is_not_found(fake):
    response = httpx.post(f"{fake.base_url}{fake.token}/sendDice", data={"chat_id": "1"})

    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_send_message_stores_the_message_with_its_keyboard(bot, fake, alice):
    first = await bot.send_message(alice.id, "Choose", reply_markup=ONE_BUTTON)
    second = await bot.send_message(alice.id, "<b>Bold</b> &amp; plain", parse_mode="HTML")

    assert first.reply_markup == ONE_BUTTON
    assert first.from_user.username == "acollida_test_bot"
    assert second.message_id == first.message_id + 1
    assert fake.texts_to(alice) == ["Choose", "Bold & plain"]
    assert fake.messages_to(alice)[0]["reply_markup"] == ONE_BUTTON.to_dict()
    params = fake.calls_of("sendMessage")[0]
    assert params["chat_id"] == alice.id
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "Yes",
                                                            "callback_data": "answer:yes"}]]}


async def test_send_message_rejects_what_telegram_rejects(bot, fake, alice):
    too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(alice.id, " ")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(alice.id, "hello", reply_markup=too_long_data)
    with pytest.raises(BadRequest, match='(?i)unsupported start tag "br" at byte offset 5'):
        await bot.send_message(alice.id, "hello<br>", parse_mode="HTML")

    # The limit applies to the text after parsing: markup does not count.
    await bot.send_message(alice.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert [len(text) for text in fake.texts_to(alice)] == [4096]


async def test_replies_and_forum_topics(bot, fake):
    forum = fake.group(FORUM_ID, "Helpers", is_forum=True)
    fake.group(GROUP_ID, "Plain group")
    maria = fake.user(2002, "Maria")

    topic = await bot.create_forum_topic(FORUM_ID, "Alice (1001)")
    question = fake.user_sends(forum, maria, "Who can help?",
                               message_thread_id=topic.message_thread_id)
    answer = await bot.send_message(FORUM_ID, "I can", message_thread_id=topic.message_thread_id,
                                    reply_parameters=ReplyParameters(question["message_id"]))

    assert topic.name == "Alice (1001)"
    assert answer.message_thread_id == topic.message_thread_id and answer.is_topic_message
    assert answer.reply_to_message.text == "Who can help?"
    assert answer.chat.is_forum
    assert (await bot.get_chat(FORUM_ID)).is_forum
    assert await bot.close_forum_topic(FORUM_ID, topic.message_thread_id)
    with pytest.raises(BadRequest, match="(?i)topic_not_modified"):
        await bot.close_forum_topic(FORUM_ID, topic.message_thread_id)
    with pytest.raises(BadRequest, match="(?i)the chat is not a forum"):
        await bot.create_forum_topic(GROUP_ID, "Alice (1001)")
    with pytest.raises(BadRequest, match="(?i)message thread not found"):
        await bot.send_message(FORUM_ID, "lost", message_thread_id=9999)


async def test_send_venue_and_location(bot, fake, alice):
    venue = await bot.send_venue(alice.id, latitude=41.6176, longitude=0.62, title="Oficina",
                                 address="Carrer Major 1, Lleida")
    await bot.send_location(alice.id, latitude=41.6, longitude=0.6)

    assert venue.venue.title == "Oficina"
    assert venue.venue.location.latitude == pytest.approx(41.6176)
    assert venue.location.longitude == pytest.approx(0.62)
    stored = fake.messages_to(alice)
    assert stored[0]["venue"]["address"] == "Carrer Major 1, Lleida"
    assert stored[1]["location"] == {"latitude": 41.6, "longitude": 0.6}


async def test_flood_control_surfaces_as_retry_after(bot, fake, alice):
    fake.fail_next("sendMessage", retry_after=2)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(alice.id, "first try")
    await bot.send_message(alice.id, "second try")

    assert raised.value.retry_after in (2, dtm.timedelta(seconds=2))
    assert fake.texts_to(alice) == ["second try"]
    assert len(fake.calls_of("sendMessage")) == 2


async def test_fail_next_answers_any_error_as_telegram_words_it(bot, fake, alice):
    fake.fail_next("sendMessage", error_code=403)
    fake.fail_next("copyMessage", 2, error_code=400, description="Bad Request: chat not found")
    fake.fail_next("editMessageText", error_code=502)
    original = fake.user_sends(alice, alice, "hello")

    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(alice.id, "refused")
    sent = await bot.send_message(alice.id, "sent")
    for _attempt in range(2):
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.copy_message(alice.id, alice.id, original["message_id"])
    await bot.copy_message(alice.id, alice.id, original["message_id"])
    with pytest.raises(NetworkError, match="Bad Gateway") as raised:
        await bot.edit_message_text("edited", alice.id, sent.message_id)
    assert type(raised.value) is NetworkError  # not BadRequest, PTB's subclass for 400
    await bot.edit_message_text("edited", alice.id, sent.message_id)

    assert fake.texts_to(alice) == ["edited", "hello"]  # the copy keeps the user's text
    assert len(fake.calls_of("copyMessage")) == 3
    assert len(fake.accepted_calls_of("copyMessage")) == 1
    assert [params["text"] for params in fake.accepted_calls_of("sendMessage")] == ["sent"]
    raw = httpx.post(f"{fake.base_url}{fake.token}/sendMessage", data={
        "chat_id": str(alice.id), "text": "raw"}).json()  # the failure was used up: it works
    assert raw["ok"] is True
    fake.fail_next("sendMessage", error_code=500)
    raw = httpx.post(f"{fake.base_url}{fake.token}/sendMessage", data={
        "chat_id": str(alice.id), "text": "raw"})
    assert raw.status_code == 500
    assert raw.json() == {"ok": False, "error_code": 500, "description": "Internal Server Error"}


async def test_a_real_error_is_not_an_accepted_call(bot, fake, alice):
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "nobody")
    await bot.send_message(alice.id, "somebody")

    assert [params["chat_id"] for params in fake.calls_of("sendMessage")] == [424242, alice.id]
    assert [params["chat_id"] for params in fake.accepted_calls_of("sendMessage")] == [alice.id]


# Each prepares what the call needs, with calls that must not be refused, and returns the call
# to make: once refused, then accepted.
async def _send_venue(bot, fake, alice):
    return lambda: bot.send_venue(alice.id, 41.6, 0.6, title="Oficina", address="Major 1")


async def _edit_reply_markup(bot, fake, alice):
    message = await bot.send_message(alice.id, "Choose", reply_markup=ONE_BUTTON)
    return lambda: bot.edit_message_reply_markup(alice.id, message.message_id)


async def _delete_message(bot, fake, alice):
    message = await bot.send_message(alice.id, "to delete")
    return lambda: bot.delete_message(alice.id, message.message_id)


async def _create_forum_topic(bot, fake, alice):
    fake.group(FORUM_ID, "Helpers", is_forum=True)
    return lambda: bot.create_forum_topic(FORUM_ID, "Alice (1001)")


async def _delete_forum_topic(bot, fake, alice):
    fake.group(FORUM_ID, "Helpers", is_forum=True)
    topic = await bot.create_forum_topic(FORUM_ID, "Alice (1001)")
    return lambda: bot.delete_forum_topic(FORUM_ID, topic.message_thread_id)


async def _answer_callback_query(bot, fake, alice):
    message = await bot.send_message(alice.id, "Choose", reply_markup=ONE_BUTTON)
    query_id = fake.user_presses(alice, alice, message.message_id, "answer:yes")
    return lambda: bot.answer_callback_query(query_id)


async def _get_updates(bot, fake, alice):
    return lambda: bot.get_updates()


@pytest.mark.parametrize("method, prepare", [
    ("sendVenue", _send_venue),
    ("editMessageReplyMarkup", _edit_reply_markup),
    ("deleteMessage", _delete_message),
    ("createForumTopic", _create_forum_topic),
    ("deleteForumTopic", _delete_forum_topic),
    ("answerCallbackQuery", _answer_callback_query),
    ("getUpdates", _get_updates),
])
async def test_failures_apply_to_any_method(bot, fake, alice, method, prepare):
    call = await prepare(bot, fake, alice)  # the set-up calls must not be refused
    fake.fail_next(method, error_code=500)

    with pytest.raises(NetworkError, match="Internal Server Error"):
        await call()
    assert await call() is not None  # then it works, and did not run the first time

    assert len(fake.calls_of(method)) == 2
    assert len(fake.accepted_calls_of(method)) == 1


async def test_fail_for_refuses_every_call_during_the_window(bot, fake, alice):
    fake.fail_for("sendMessage", 1.0, error_code=500)
    started = time.monotonic()

    attempts = 0
    while time.monotonic() - started < 0.8:
        attempts += 1
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(alice.id, f"attempt {attempts}")
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0 - (time.monotonic() - started) + 0.05)
    await bot.send_message(alice.id, "after the window")

    assert attempts >= 3
    assert fake.texts_to(alice) == ["after the window"]
    assert len(fake.calls_of("sendMessage")) == attempts + 1
    assert [params["text"] for params in fake.accepted_calls_of("sendMessage")] == [
        "after the window"]


async def test_fail_for_with_429_says_when_to_retry(bot, fake, alice):
    fake.fail_for("sendMessage", 3.0, error_code=429)
    fake.fail_for("copyMessage", 3.0, error_code=429, retry_after=7)
    original = fake.user_sends(alice, alice, "hello")

    with pytest.raises(RetryAfter) as until_the_end:
        await bot.send_message(alice.id, "too soon")
    with pytest.raises(RetryAfter) as as_asked:
        await bot.copy_message(alice.id, alice.id, original["message_id"])

    assert until_the_end.value.retry_after in (3, dtm.timedelta(seconds=3))
    assert as_asked.value.retry_after in (7, dtm.timedelta(seconds=7))
    raw = httpx.post(f"{fake.base_url}{fake.token}/sendMessage",
                     data={"chat_id": str(alice.id), "text": "raw"}).json()
    assert raw["parameters"]["retry_after"] in (2, 3)
    retry_after = raw["parameters"]["retry_after"]
    assert raw["description"] == f"Too Many Requests: retry after {retry_after}"


async def test_clear_failures_forgets_them(bot, fake, alice):
    fake.fail_for("sendMessage", 60, error_code=403)
    fake.fail_next("sendChatAction", times=5, error_code=502)
    fake.fail_next("getChat", times=5, error_code=500)

    fake.clear_failures("getChat")
    assert (await bot.get_chat(alice.id)).id == alice.id
    with pytest.raises(Forbidden):
        await bot.send_message(alice.id, "still blocked")
    fake.clear_failures()
    await bot.send_message(alice.id, "unblocked")
    assert await bot.send_chat_action(alice.id, "typing")

    assert fake.texts_to(alice) == ["unblocked"]
    with pytest.raises(ValueError, match="not an error code"):
        fake.fail_next("sendMessage", error_code=200)


async def test_polling_recovers_after_get_updates_fails_for_a_while(fake, alice):
    handled: list[str] = []
    app = _echo_application(fake, handled)
    fake.fail_for("getUpdates", 1.0, error_code=502)
    await _start_polling(app)
    try:
        fake.user_sends(alice, alice, "are you there?")
        [reply] = await fake.async_wait_for_messages(alice, 1, timeout=15)
    finally:
        await _stop(app)

    assert reply["text"] == "echo: are you there?"
    polls = len(fake.calls_of("getUpdates"))
    assert 0 < len(fake.accepted_calls_of("getUpdates")) < polls  # some were refused


async def test_edits_and_callback_answers(bot, fake, alice):
    message = await bot.send_message(alice.id, "Choose", reply_markup=ONE_BUTTON)
    query_id = fake.user_presses(alice, alice, message.message_id, "answer:yes")

    assert await bot.answer_callback_query(query_id, text="Noted")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Choose", alice.id, message.message_id,
                                    reply_markup=ONE_BUTTON)
    edited = await bot.edit_message_text("Chosen", alice.id, message.message_id)
    assert edited.text == "Chosen" and edited.reply_markup is None  # like Telegram
    [stored] = fake.messages_to(alice)
    assert (stored["text"], stored["edit_date"]) == ("Chosen", edited.edit_date.timestamp())
    assert "reply_markup" not in stored
    assert await bot.delete_message(alice.id, message.message_id)
    assert fake.messages_to(alice) == []


async def test_copy_and_forward_into_another_chat(bot, fake, alice):
    fake.group(GROUP_ID, "Operators")
    original = fake.user_sends(alice, alice, "I need a lawyer")

    copied = await bot.copy_message(GROUP_ID, alice.id, original["message_id"])
    forwarded = await bot.forward_message(GROUP_ID, alice.id, original["message_id"])

    copy, forward = fake.messages_to(GROUP_ID)
    assert copy["message_id"] == copied.message_id
    assert copy["text"] == forward["text"] == "I need a lawyer"
    assert "forward_origin" not in copy
    assert forwarded.forward_origin.sender_user.id == alice.id
    with pytest.raises(BadRequest, match="(?i)message to copy not found"):
        await bot.copy_message(GROUP_ID, alice.id, 999)


async def test_messages_can_be_deleted_only_for_48_hours(bot, fake, alice):
    group = fake.group(GROUP_ID, "Operators")
    old = await bot.send_message(alice.id, "old")
    recent = await bot.send_message(alice.id, "recent")
    from_user = fake.user_sends(group, fake.user(2002, "Maria"), "old question")
    fake.age_message(alice, old.message_id, hours=48)
    aged = fake.age_message(alice, recent.message_id, hours=47.9)
    fake.age_message(group, from_user["message_id"], hours=49)

    with pytest.raises(BadRequest, match="(?i)message can't be deleted for everyone"):
        await bot.delete_message(alice.id, old.message_id)
    with pytest.raises(BadRequest, match="(?i)message can't be deleted for everyone"):
        await bot.delete_message(GROUP_ID, from_user["message_id"])
    assert await bot.delete_message(alice.id, recent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(alice.id, recent.message_id)

    assert aged["date"] == recent.date.timestamp() - round(47.9 * 3600)
    assert fake.texts_to(alice) == ["old"]
    assert fake.deleted_message_ids(alice) == [recent.message_id]
    assert fake.deleted_message_ids(group) == []
    with pytest.raises(ValueError, match="has no message"):
        fake.age_message(alice, recent.message_id, hours=1)


async def test_delete_messages_skips_what_it_cannot_delete(bot, fake, alice):
    first, aged, third = [await bot.send_message(alice.id, text)
                          for text in ("first", "aged", "third")]
    user_message = fake.user_sends(alice, alice, "mine")
    fake.age_message(alice, aged.message_id, hours=50)

    assert await bot.delete_messages(alice.id, [first.message_id, 999, aged.message_id,
                                                third.message_id, user_message["message_id"]])
    assert await bot.delete_messages(alice.id, [first.message_id])  # all skipped: still True

    assert fake.texts_to(alice) == ["aged"]
    assert fake.deleted_message_ids(alice) == [first.message_id, third.message_id,
                                               user_message["message_id"]]
    with pytest.raises(BadRequest, match="(?i)message identifiers are not specified"):
        await bot.delete_messages(alice.id, [])
    with pytest.raises(BadRequest, match="(?i)too many message identifiers specified"):
        await bot.delete_messages(alice.id, list(range(1, 102)))
    with pytest.raises(BadRequest, match="(?i)invalid message identifier specified"):
        await bot.delete_messages(alice.id, [aged.message_id, 0])
    assert fake.texts_to(alice) == ["aged"]  # a refused request deletes nothing


async def test_deleting_a_forum_topic_deletes_its_messages(bot, fake):
    forum = fake.group(FORUM_ID, "Helpers", is_forum=True)
    maria = fake.user(2002, "Maria")
    doomed = await bot.create_forum_topic(FORUM_ID, "Alice (1001)")
    kept = await bot.create_forum_topic(FORUM_ID, "Bob (1002)")
    in_doomed = await bot.send_message(FORUM_ID, "to Alice",
                                       message_thread_id=doomed.message_thread_id)
    from_maria = fake.user_sends(forum, maria, "I can help",
                                 message_thread_id=doomed.message_thread_id)
    copied = await bot.copy_message(FORUM_ID, FORUM_ID, from_maria["message_id"],
                                    message_thread_id=doomed.message_thread_id)
    fake.age_message(forum, in_doomed.message_id, hours=100)  # the topic takes old ones too
    await bot.send_message(FORUM_ID, "to Bob", message_thread_id=kept.message_thread_id)
    await bot.send_message(FORUM_ID, "in General")

    assert await bot.delete_forum_topic(FORUM_ID, doomed.message_thread_id)

    assert fake.texts_to(forum) == ["to Bob", "in General"]
    assert fake.deleted_message_ids(forum) == [in_doomed.message_id, from_maria["message_id"],
                                               copied.message_id]
    assert [topic.name for topic in fake.topics(forum)] == ["Bob (1002)"]
    with pytest.raises(BadRequest, match="(?i)message thread not found"):
        await bot.send_message(FORUM_ID, "lost", message_thread_id=doomed.message_thread_id)
    with pytest.raises(ValueError, match="has no message"):
        fake.user_presses(forum, maria, in_doomed.message_id, "answer:yes")


async def test_files_by_id_by_upload_and_download(bot, fake, alice):
    photo = fake.user_sends_photo(alice, alice, caption="my document")
    voice = fake.user_sends_voice(alice, alice, content=b"OggS hello")

    resent = await bot.send_photo(alice.id, photo["photo"][-1]["file_id"], caption="got it")
    uploaded = await bot.send_document(alice.id, b"report body", filename="report.txt")
    voice_file = await bot.get_file(voice["voice"]["file_id"])
    upload_file = await bot.get_file(uploaded.document.file_id)
    downloaded_voice = await voice_file.download_as_bytearray()
    downloaded_upload = await upload_file.download_as_bytearray()

    assert resent.photo[-1].file_id == photo["photo"][-1]["file_id"]
    assert resent.caption == "got it"
    assert uploaded.document.file_name == "report.txt"
    assert (bytes(downloaded_voice), bytes(downloaded_upload)) == (b"OggS hello", b"report body")
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_voice(alice.id, "no-such-file")
    with pytest.raises(BadRequest, match="(?i)can't use file of type voice as photo"):
        await bot.send_photo(alice.id, voice["voice"]["file_id"])


def test_json_and_multipart_requests_are_understood(fake, alice):
    url = f"{fake.base_url}{fake.token}"
    as_json = httpx.post(f"{url}/sendMessage", json={
        "chat_id": alice.id, "text": "json", "reply_markup": ONE_BUTTON.to_dict()})
    as_multipart = httpx.post(f"{url}/sendMessage", files={"extra": ("a.txt", b"x")}, data={
        "chat_id": str(alice.id), "text": "multipart", "disable_notification": "true"})

    assert as_json.json()["result"]["reply_markup"] == ONE_BUTTON.to_dict()
    assert as_multipart.json()["result"]["text"] == "multipart"
    assert fake.calls_of("sendMessage")[1]["disable_notification"] is True
    assert fake.texts_to(alice) == ["json", "multipart"]


def test_user_messages_carry_command_and_mention_entities(fake, alice):
    message = fake.user_sends(alice, alice, "/start@acollida_test_bot hola @alice_a")

    assert message["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 24},
        {"type": "mention", "offset": 30, "length": 8},
    ]
    assert message["from"]["language_code"] == "ar"


async def test_new_kinds_of_updates_parse_in_ptb(bot, fake, alice):
    forum = fake.group(FORUM_ID, "Helpers", is_forum=True)
    maria = fake.user(2002, "Maria")
    dice = fake.user_sends_dice(alice, alice, emoji="🎯", value=4)
    story = fake.user_sends_story(alice, alice)
    poll = fake.user_sends_poll(forum, maria, "Which day?", ["Monday", "Tuesday", "Friday"])
    text = fake.user_sends(alice, alice, "I ned help")
    fake.user_edits(alice, alice, text["message_id"], "I need help")
    fake.user_sends(alice, alice, "/foo now")

    updates = await bot.get_updates()
    with warnings.catch_warnings():  # no field PTB 22.8 requires or deprecates is off
        warnings.simplefilter("error")
        parsed = [Update.de_json(update, bot) for update in fake.updates]

    assert [update.to_dict() for update in updates] == [update.to_dict() for update in parsed]
    rolled, forwarded_story, asked, _sent, edited, command = updates
    assert (rolled.message.dice.emoji, rolled.message.dice.value) == ("🎯", 4)
    assert rolled.message.message_id == dice["message_id"]
    assert forwarded_story.message.story.chat.id == alice.id
    assert forwarded_story.message.story.id == story["story"]["id"]
    assert forwarded_story.message.text is None
    assert asked.message.chat.id == FORUM_ID and asked.message.from_user.id == maria.id
    assert asked.message.poll.question == "Which day?"
    assert [option.text for option in asked.message.poll.options] == [
        "Monday", "Tuesday", "Friday"]
    assert asked.message.poll.id == poll["poll"]["id"]
    assert (asked.message.poll.type, asked.message.poll.total_voter_count) == (Poll.REGULAR, 0)
    assert edited.message is None and edited.edited_message.text == "I need help"
    assert edited.edited_message.message_id == text["message_id"]
    assert edited.edited_message.edit_date is not None
    assert fake.messages_to(alice) == []  # users' messages are not the bot's
    assert command.message.entities[0].type == MessageEntity.BOT_COMMAND
    assert command.message.parse_entities([MessageEntity.BOT_COMMAND]) == {
        command.message.entities[0]: "/foo"}
    assert filters.COMMAND.check_update(command)
    with pytest.raises(ValueError, match="shows 1 to 6"):
        fake.user_sends_dice(alice, alice, value=7)
    with pytest.raises(ValueError, match="not a text of user"):
        fake.user_edits(alice, alice, dice["message_id"], "no text to edit")


async def test_an_application_routes_the_new_kinds_of_updates(fake, alice):
    handled: list[str] = []

    async def record(update, context):
        message = update.effective_message
        if update.edited_message:
            handled.append(f"edited: {message.text}")
        elif message.dice:
            handled.append(f"dice {message.dice.value}")
        elif message.story:
            handled.append("story")
        elif message.poll:
            handled.append(f"poll {message.poll.question}")
        else:
            handled.append(f"command {message.text}")

    app = (Application.builder().token(fake.token).base_url(fake.base_url)
           .base_file_url(fake.base_file_url).build())
    app.add_handler(CommandHandler("start", record))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, record))
    app.add_handler(MessageHandler(filters.COMMAND | filters.Dice.ALL | filters.STORY
                                   | filters.POLL, record))
    await _start_polling(app)
    try:
        text = fake.user_sends(alice, alice, "hi")
        fake.user_edits(alice, alice, text["message_id"], "hi there")
        fake.user_sends_dice(alice, alice, value=3)
        fake.user_sends_story(alice, alice)
        fake.user_sends_poll(alice, alice, "Which day?")
        fake.user_sends(alice, alice, "/foo")
        await fake.async_wait_for(lambda: len(handled) == 5)
    finally:
        await _stop(app)

    assert handled == ["edited: hi there", "dice 3", "story", "poll Which day?", "command /foo"]


# ------------------------------------------------------------------ getUpdates


async def test_get_updates_long_polls_and_confirms_with_offset(bot, fake, alice):
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9

    threading.Timer(0.2, fake.user_sends, args=(alice, alice, "late")).start()
    started = time.monotonic()
    [update] = await bot.get_updates(timeout=5)
    assert time.monotonic() - started < 2
    assert update.message.text == "late"

    assert [u.update_id for u in await bot.get_updates()] == [update.update_id]  # unconfirmed
    assert await bot.get_updates(offset=update.update_id + 1) == ()  # confirmed and dropped
    fake.redeliver(update.update_id)
    assert [u.update_id for u in await bot.get_updates(offset=update.update_id + 1)] == [
        update.update_id]

    for text in ("a", "b", "c"):
        fake.user_sends(alice, alice, text)
    batch = await bot.get_updates(offset=update.update_id + 1, limit=2)
    assert [u.message.text for u in batch] == ["a", "b"]


async def test_a_second_poll_cuts_off_the_first(bot, fake):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient() as client:  # PTB itself allows one getUpdates at a time
        second = await client.post(f"{fake.base_url}{fake.token}/getUpdates", data={"timeout": "0"})
    assert second.json() == {"ok": True, "result": []}

    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


def test_sync_callers_can_wait_for_messages(fake, alice):
    threading.Timer(0.2, httpx.post, args=(f"{fake.base_url}{fake.token}/sendMessage",),
                    kwargs={"data": {"chat_id": str(alice.id), "text": "later"}}).start()

    [message] = fake.wait_for_messages(alice, 1, timeout=5)

    assert message["text"] == "later"
    with pytest.raises(TimeoutError, match="expected 2 messages"):
        fake.wait_for_messages(alice, 2, timeout=0.2)


# ------------------------------------------------------------------ a PTB Application


def _echo_application(fake: FakeBotAPI, handled: list[str]) -> Application:
    async def echo(update, context):
        handled.append(update.message.text)
        await update.message.reply_text(f"echo: {update.message.text}", reply_markup=ONE_BUTTON)

    async def pressed(update, context):
        handled.append(update.callback_query.data)
        await update.callback_query.answer("Noted")
        await update.callback_query.edit_message_text("pressed")

    app = (Application.builder().token(fake.token).base_url(fake.base_url)
           .base_file_url(fake.base_file_url).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    return app


async def _start_polling(app: Application) -> None:
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.05, timeout=1)


async def _stop(app: Application) -> None:
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_polling_application_handles_each_update_once(fake, alice):
    handled: list[str] = []
    app = _echo_application(fake, handled)
    await _start_polling(app)
    try:
        fake.user_sends(alice, alice, "hello")
        [reply] = await fake.async_wait_for_messages(alice, 1)
        assert reply["text"] == "echo: hello"

        fake.user_presses(alice, alice, reply["message_id"], "answer:yes")
        await fake.async_wait_for(lambda: fake.texts_to(alice) == ["pressed"])
        await asyncio.sleep(0.5)  # more polls happen: nothing may come twice
    finally:
        await _stop(app)

    assert handled == ["hello", "answer:yes"]
    assert [params["text"] for params in fake.calls_of("answerCallbackQuery")] == ["Noted"]
    assert fake.calls_of("deleteWebhook")  # PTB's polling bootstrap


async def test_updates_survive_a_gateway_restart_and_duplicates_arrive(fake, alice):
    handled: list[str] = []
    first = _echo_application(fake, handled)
    await _start_polling(first)
    fake.user_sends(alice, alice, "one")
    await fake.async_wait_for_messages(alice, 1)
    await _stop(first)

    fake.user_sends(alice, alice, "two")  # while no gateway runs
    second = _echo_application(fake, handled)
    await _start_polling(second)
    try:
        await fake.async_wait_for_messages(alice, 2)
        fake.redeliver(fake.updates[-1]["update_id"])
        await fake.async_wait_for_messages(alice, 3)
        await asyncio.sleep(0.3)
    finally:
        await _stop(second)

    assert handled == ["one", "two", "two"]
    assert fake.texts_to(alice) == ["echo: one", "echo: two", "echo: two"]


# ------------------------------------------------------------------ webhook


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_webhook_delivery_with_right_and_wrong_secret(fake, alice):
    handled: list[str] = []
    app = _echo_application(fake, handled)
    port = _free_port()
    await app.initialize()
    await app.start()
    await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="hook",
                                    webhook_url=f"http://127.0.0.1:{port}/hook",
                                    secret_token="right-secret")
    try:
        message = fake.user_sends(alice, alice, "via webhook")
        await fake.async_wait_for_messages(alice, 1)
        forged = {"update_id": 1, "message": {**message, "text": "forged"}}
        wrong_secret = await fake.async_post_to_webhook(forged, secret="wrong-secret")
        no_secret = await fake.async_post_to_webhook(forged, secret=None)
        with pytest.raises(Conflict, match="webhook is active"):
            await app.bot.get_updates()
        info = await app.bot.get_webhook_info()
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    assert fake.calls_of("setWebhook")[0]["secret_token"] == "right-secret"
    assert [delivery.status for delivery in fake.webhook_deliveries] == [200]
    assert (wrong_secret, no_secret) == (403, 403)
    assert handled == ["via webhook"]
    assert info.url == f"http://127.0.0.1:{port}/hook"


class _SecretCheckingReceiver(BaseHTTPRequestHandler):
    """A webhook that accepts only the secret "s3cret"."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        accepted = self.headers.get("X-Telegram-Bot-Api-Secret-Token") == "s3cret"
        if accepted:
            self.server.received.append(body["message"]["text"])
        self.send_response(200 if accepted else 403)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_from_sync_code_records_statuses_and_errors(fake, alice):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _SecretCheckingReceiver)
    receiver.received = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    api = f"{fake.base_url}{fake.token}"
    hook = f"http://127.0.0.1:{receiver.server_port}/hook"
    try:
        httpx.post(f"{api}/setWebhook", data={"url": hook, "secret_token": "s3cret"})
        fake.user_sends(alice, alice, "accepted")
        fake.wait_for(lambda: fake.webhook_deliveries)
        forged = {"update_id": 1, "message": {"text": "forged"}}
        assert fake.post_to_webhook(forged, secret="guess") == 403

        httpx.post(f"{api}/setWebhook", data={"url": hook, "secret_token": "rotated"})
        fake.user_sends(alice, alice, "rejected")
        fake.wait_for(lambda: len(fake.webhook_deliveries) == 2)
        info = httpx.get(f"{api}/getWebhookInfo").json()["result"]
    finally:
        receiver.shutdown()
        receiver.server_close()

    assert [delivery.status for delivery in fake.webhook_deliveries] == [200, 403]
    assert receiver.received == ["accepted"]
    assert info["last_error_message"] == "Wrong response from the webhook: 403 Forbidden"
    httpx.post(f"{api}/deleteWebhook")
    fake.user_sends(alice, alice, "polled")
    polled = httpx.post(f"{api}/getUpdates").json()["result"]
    assert [update["message"]["text"] for update in polled] == ["polled"]


class _ScriptedReceiver(BaseHTTPRequestHandler):
    """A webhook that answers each request as `server.answer(text)` says: a status, or a
    number of seconds to wait (past the fake's timeout) before answering 200. It logs every
    request as (text, "start"|"end") and the most requests it ever had under way at once."""

    def do_POST(self):
        text = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["message"]["text"]
        server = self.server
        with server.lock:
            server.log.append((text, "start"))
            server.under_way += 1
            server.most_under_way = max(server.most_under_way, server.under_way)
            answer = server.answer(text)
        if isinstance(answer, float):
            time.sleep(answer)
            answer = 200
        else:
            time.sleep(server.work_seconds)
        with server.lock:
            server.log.append((text, "end"))
            server.under_way -= 1
        try:
            self.send_response(answer)
            self.end_headers()
        except OSError:  # the fake stopped waiting
            pass

    def log_message(self, *args):
        pass


def _scripted_receiver(answer, port: int = 0, work_seconds: float = 0.0) -> ThreadingHTTPServer:
    receiver = ThreadingHTTPServer(("127.0.0.1", port), _ScriptedReceiver)
    receiver.daemon_threads = True
    receiver.lock = threading.Lock()
    receiver.log, receiver.under_way, receiver.most_under_way = [], 0, 0
    receiver.answer, receiver.work_seconds = answer, work_seconds
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    return receiver


def _close(receiver: ThreadingHTTPServer) -> None:
    receiver.shutdown()
    receiver.server_close()


def test_failed_webhook_deliveries_are_retried_until_accepted_in_order():
    """Refused connections, a 500 and a timeout: every update arrives, in order, the next only
    after the previous was accepted."""
    answers = {"one": [500, 1.0]}  # then 200, as for every other text
    port = _free_port()
    with FakeBotAPI(webhook_retry_delay=0.1, webhook_timeout=0.3) as fake:
        alice = fake.private_chat(1001, "Alice")
        api = f"{fake.base_url}{fake.token}"
        httpx.post(f"{api}/setWebhook", data={"url": f"http://127.0.0.1:{port}/hook"})
        for text in ("one", "two", "three"):
            fake.user_sends(alice, alice, text)
        fake.wait_for(lambda: len(fake.webhook_deliveries) >= 2)  # nothing listens yet
        receiver = _scripted_receiver(lambda text: (answers.get(text) or [200]).pop(0), port)
        try:
            fake.wait_for(lambda: [d.status for d in fake.webhook_deliveries][-3:] == [200] * 3)
            info = httpx.get(f"{api}/getWebhookInfo").json()["result"]
        finally:
            _close(receiver)
        statuses = [delivery.status for delivery in fake.webhook_deliveries]
        ids = [delivery.update_id for delivery in fake.webhook_deliveries]

    refused = statuses.index(500)
    assert refused >= 2 and statuses[:refused] == [None] * refused
    assert statuses[refused:] == [500, None, 200, 200, 200]  # None: the timeout
    first, second, third = (update["update_id"] for update in fake.updates)
    assert ids == [first] * (refused + 3) + [second, third]
    started = [text for text, event in receiver.log if event == "start"]
    assert started == ["one", "one", "one", "two", "three"]
    assert info["pending_update_count"] == 0
    assert info["last_error_message"].startswith("Connection failed")


def test_concurrent_webhook_serves_chats_side_by_side_and_each_chat_in_order():
    """Three chats, three messages each, two connections: never more than two deliveries at
    once, never two of one chat; a chat whose delivery fails holds up only itself."""
    answers = {"alice 1": [502, 502]}
    receiver = _scripted_receiver(lambda text: (answers.get(text) or [200]).pop(0),
                                  work_seconds=0.2)
    try:
        with FakeBotAPI(webhook_retry_delay=0.5, concurrent_webhook=True) as fake:
            chats = [fake.private_chat(1000 + number, name)
                     for number, name in enumerate(("alice", "bob", "carol"))]
            httpx.post(f"{fake.base_url}{fake.token}/setWebhook", data={
                "url": f"http://127.0.0.1:{receiver.server_port}/hook", "max_connections": "2"})
            for number in (1, 2, 3):
                for chat in chats:
                    fake.user_sends(chat, chat, f"{chat.user.first_name} {number}")
            fake.wait_for(lambda: sum(d.status == 200 for d in fake.webhook_deliveries) == 9)
    finally:
        _close(receiver)

    assert receiver.most_under_way == 2
    for name in ("alice", "bob", "carol"):
        own = [entry for entry in receiver.log if entry[0].startswith(name)]
        # one at a time: each start is followed by its own end
        assert [event for _, event in own] == ["start", "end"] * (len(own) // 2)
        assert list(dict.fromkeys(text for text, _ in own)) == [f"{name} {n}" for n in (1, 2, 3)]
    answered = [text for text, event in receiver.log if event == "end"]
    assert answered.count("alice 1") == 3
    assert answered[-3:] == ["alice 1", "alice 2", "alice 3"]  # alice waited alone
