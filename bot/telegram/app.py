"""The python-telegram-bot application: handlers wired to the gateway, polling or webhook.

`acollida telegram` runs it; `acollida run` starts it with the rest of the
stack when TELEGRAM_BOT_TOKEN is set.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any, AsyncIterator

from sqlalchemy import select
from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, CommandHandler, MessageHandler, SimpleUpdateProcessor, filters

from bot.database.schema import upgrade_schema
from bot.database.sessions import engine_for, session_scope
from bot.handoff.models import Mediator
from bot.languages import LANGUAGE_CODES, LINGUA_FRANCA
from bot.telegram import health
from bot.telegram.commands import Commands
from bot.telegram.config import ConfigurationError, GatewayConfig, from_environment
from bot.telegram.gateway import Gateway
from bot.texts import say

log = logging.getLogger(__name__)

WEBHOOK_PATH = "telegram"

def command_menu(language: str) -> list[BotCommand]:
    """The commands Telegram lists, described in ``language``."""
    return [
        BotCommand("start", say("command_start", language)),
        BotCommand("language", say("button_language", language)),
        BotCommand("help", say("command_help", language)),
        BotCommand("human", say("button_human", language)),
        BotCommand("mydata", say("command_mydata", language)),
        BotCommand("forget", say("command_forget", language)),
    ]


async def set_command_menus(bot: Any) -> None:
    """Telegram shows each person the menu of their app's language, English where we have none."""
    await bot.set_my_commands(command_menu(LINGUA_FRANCA))
    for code in LANGUAGE_CODES:
        await bot.set_my_commands(command_menu(code), language_code=code)


class RecordingQueue(asyncio.Queue):
    """PTB's update queue, writing each update down before it is queued.

    The webhook answers Telegram only once ``put`` returned, so an update
    Telegram was told arrived is in the database, whichever replica dies.
    """

    def __init__(self, gateway: Gateway):
        super().__init__()
        self.gateway = gateway

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            await self.gateway.record(item)
        await super().put(item)


class OneChatAtATime(SimpleUpdateProcessor):
    """Chats side by side (up to the limit), each update handled once and its chat's updates one at a time."""

    def __init__(self, gateway: Gateway, max_concurrent_updates: int):
        super().__init__(max_concurrent_updates)
        self.gateway = gateway

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        await self.gateway.process(update, coroutine)


def build_application(config: GatewayConfig) -> tuple[Application, Gateway]:
    gateway = Gateway(config)
    queue = RecordingQueue(gateway)
    builder = (
        Application.builder()
        .token(config.token)
        .update_queue(queue)
        # Telegram's flood limits: PTB's limiter spaces the calls and waits out RetryAfter.
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(OneChatAtATime(gateway, 32))
    )
    if config.base_url:
        builder = builder.base_url(config.base_url).base_file_url(file_url_for(config.base_url))
    application = builder.build()
    # An update a replica that stopped had received goes back into the queue of this one.
    gateway.resubmit = lambda raw: application.create_task(queue.put(Update.de_json(raw, application.bot)))
    add_handlers(application, gateway)
    return application, gateway


def file_url_for(base_url: str) -> str:
    """PTB's base_url ends in /bot (https://api.telegram.org/bot); files are served under /file/bot."""
    root = base_url.rstrip("/")
    return root[: -len("/bot")] + "/file/bot" if root.endswith("/bot") else root + "/file"


def add_handlers(application: Application, gateway: Gateway) -> None:
    # filters.Chat() with no chat matches no chat: the gateway runs without a mediators' group too.
    mediators_group = filters.Chat(gateway.config.mediator_chat_id) if gateway.config.mediator_chat_id is not None else filters.Chat()
    newcomers = (filters.ChatType.PRIVATE | filters.ChatType.GROUPS) & ~mediators_group
    commands, data_requests = Commands(gateway), gateway.data_requests
    application.add_handler(CallbackQueryHandler(gateway.mediation.on_callback, pattern=r"^(take|end|release):\d+$"))
    application.add_handler(CallbackQueryHandler(data_requests.on_forget_answer, pattern=r"^forget:(yes|no)$"))
    application.add_handler(MessageHandler(mediators_group & ~filters.StatusUpdate.ALL, gateway.mediation.on_group_message))
    for name, callback in (
        ("start", commands.on_start),
        ("language", commands.on_language),
        ("help", commands.on_help),
        ("human", commands.on_human),
        ("mydata", data_requests.on_mydata),
        ("forget", data_requests.on_forget),
    ):
        application.add_handler(CommandHandler(name, callback, filters=newcomers))
    application.add_handler(MessageHandler(newcomers & filters.COMMAND, commands.on_unknown_command))
    application.add_handler(MessageHandler(newcomers & filters.TEXT & ~filters.COMMAND, gateway.on_text))
    # Everything else a person can send (media, dice, stories, polls...) gets an answer or reaches the mediator.
    application.add_handler(MessageHandler(newcomers & ~filters.TEXT & ~filters.StatusUpdate.ALL, gateway.on_media))
    application.add_handler(CallbackQueryHandler(gateway.on_callback))


def check_ready(config: GatewayConfig) -> None:
    """Refuses to start a gateway that would promise newcomers a mediator it cannot reach."""
    upgrade_schema(config.database_url)
    with session_scope(engine_for(config.database_url)) as session:
        registered = session.execute(select(Mediator.id)).first() is not None
    if registered and config.mediator_chat_id is None:
        raise ConfigurationError("mediators are registered but TELEGRAM_MEDIATOR_CHAT_ID is not set: set it to the mediators' group id")


@contextlib.asynccontextmanager
async def running(config: GatewayConfig) -> AsyncIterator[Gateway]:
    """The gateway receiving updates (webhook or polling) until the block ends; the tests use this too."""
    application, gateway = build_application(config)
    async with application:
        await gateway.start(application.bot)
        await set_command_menus(application.bot)
        await application.start()
        if config.webhook_mode:
            # PTB's webhook server answers 403 to a request without the right secret token.
            await application.updater.start_webhook(
                listen=config.webhook_listen,
                port=config.webhook_port,
                url_path=WEBHOOK_PATH,
                webhook_url=config.webhook_url,
                secret_token=config.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=config.poll_timeout)
        # Up only now: Telegram answered and updates are being received.
        endpoint = await health.serve(gateway) if config.health_port is not None else None
        try:
            yield gateway
        finally:
            if endpoint is not None:
                await endpoint.cleanup()
            await application.updater.stop()
            await application.stop()
            await gateway.stop()


async def _serve_until_stopped(config: GatewayConfig, ready_file: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    async with running(config):
        log.warning("Telegram gateway running (%s)", "webhook" if config.webhook_mode else "polling")
        if ready_file is not None:
            # Written only once Telegram answered getMe and updates are being received, so that
            # `acollida run` says "ready" only when it is.
            ready_file.write_text(str(os.getpid()), encoding="utf-8")
        try:
            await stop.wait()
        finally:
            if ready_file is not None:
                ready_file.unlink(missing_ok=True)


def run(config: GatewayConfig, ready_file: Path | None = None) -> None:
    check_ready(config)
    asyncio.run(_serve_until_stopped(config, ready_file))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("telegram", help="run the Telegram gateway (TELEGRAM_BOT_TOKEN, see README)")
    parser.add_argument("--ready-file", type=Path, default=None, help="write this file once the gateway receives updates")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        config = from_environment()
        run(config, args.ready_file)
    except ConfigurationError as error:
        print(f"cannot start the Telegram gateway: {error}", file=sys.stderr)
        return 2
    return 0
