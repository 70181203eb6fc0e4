"""The production topology on loopback: two replicas of every server behind nginx, under load, with replicas dying.

    fake Telegram ──POST /telegram──▶ nginx ──▶ gateway 1 | gateway 2      (webhook mode)
    gateways ───────/rasa/...──────▶ nginx ──▶ Rasa 1 | Rasa 2             (REST channel, HTTP API)
    Rasa, gateways ─/actions/...───▶ nginx ──▶ action server 1 | 2         (/webhook, /health)

nginx (Debian's package) listens on one port and sends each of the three prefixes
round-robin to its two replicas. A replica that refuses the connection is skipped; a POST
that reached a replica is never sent to the other by nginx (the gateway keeps every message
until it is answered and asks again itself; Telegram delivers an update again until the
webhook accepts it). All processes share one PostgreSQL database (the knowledge base, the
gateway's tables, Rasa's tracker store) and one Redis database (Rasa's lock store), as
endpoints.production.yml says. Telegram is tests/telegram/fake_bot_api.py, delivering to
the webhook as Telegram does: each chat's updates in order, chats side by side, a failed
delivery made again until accepted.

One chat alone records the reference conversation; then 50 chats hold that same
conversation, their messages interleaved. Every chat must read exactly the reference:
each message answered once, in order. The second test kills one replica of each role
(SIGKILL) a third of the way through, and asks the same.
"""
from __future__ import annotations

import collections
import contextlib
import difflib
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.evaluation import free_port
from bot.stack import action_server_command, gateway_command, rasa_server_command, wait_until_ready, wait_until_up
from bot.settings import PROJECT_ROOT
from tests.telegram.fake_bot_api import FakeBotAPI, FakeChat
from tests.topology.nginx_proxy import NGINX, Route, running_nginx
from tests.topology.replicas import Replica, load_knowledge, shared_database, start_replica

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.model,
    pytest.mark.skipif(not NGINX.is_file(), reason=f"{NGINX} is missing: `make test` installs Debian's nginx (apt-get, as root)"),
]

MODEL = PROJECT_ROOT / os.environ.get("ACOLLIDA_TEST_MODEL", "models/acollida.tar.gz")
REDIS_DB = 3  # the lock store's own database, emptied at the start
ROLES = ("gateway", "rasa", "actions")
# A conversation the model answers the same way every time: no handoff, no opening hours.
MESSAGES = (
    "buenos días",
    "necesito empadronarme",
    "Vic",
    "qué documentos necesito?",
    "mi hija no tiene tarjeta sanitaria",
    "dónde está el CAP?",
    "quiero apuntar a mi hijo al colegio",
    "hay clases de castellano gratis?",
    "muchas gracias",
    "adiós, hasta luego",
)
CHATS = 50
SEND_INTERVAL_SECONDS = 0.04  # 500 messages in about 20 s: the replicas are busy when they die
DEADLINE_SECONDS = 240
# Longer than a gateway tick (1 s): a late second answer from the background loop would show.
SETTLE_SECONDS = 3.0

_chat_ids = itertools.count(700_001)


def new_chats(fake: FakeBotAPI, count: int) -> list[FakeChat]:
    # The database and Rasa's tracker store outlive a test: every chat is new to them.
    return [fake.private_chat(chat_id, f"Persona {chat_id}", language_code="es") for chat_id in itertools.islice(_chat_ids, count)]


def shown(message: dict) -> str:
    """What the person reads of a bot message."""
    if "text" in message:
        return message["text"]
    if "venue" in message:
        return f"venue: {message['venue']['title']}"
    return f"a message with {sorted(message)}"


def _one_line(text: str, width: int = 100) -> str:
    return " ⏎ ".join(text.splitlines())[:width]


@dataclass
class Topology:
    fake: FakeBotAPI
    replicas: dict[str, list[Replica]]
    nginx: Path
    database_url: str
    reference: list[str]

    def kill_one_of_each_role(self) -> None:
        for role in ROLES:
            self.replicas[role][0].kill()

    def report(self, wrong: dict[int, list[str]], chats: int, elapsed: float) -> str:
        lacking = sum(len(seen) < len(self.reference) for seen in wrong.values())
        extra = sum(len(seen) > len(self.reference) for seen in wrong.values())
        lines = [
            f"{len(wrong)} of {chats} chats did not read the reference conversation after {elapsed:.0f} s: "
            f"{lacking} with fewer messages, {extra} with more, {len(wrong) - lacking - extra} as many but different or out of order",
        ]
        lines += self.stores_evidence(wrong)
        for chat_id, seen in list(wrong.items())[:3]:
            lines.append(f"chat {chat_id}, reference (-) and what it read (+):")
            lines += difflib.unified_diff(list(map(_one_line, self.reference)), list(map(_one_line, seen)), lineterm="", n=0)
        statuses = collections.Counter(delivery.status for delivery in self.fake.webhook_deliveries)
        lines.append(f"webhook deliveries by status (None: no answer): {dict(statuses)}")
        not_ok = [line for line in (self.nginx / "access.log").read_text().splitlines() if " 200 upstream=" not in line]
        lines.append(f"--- nginx: {len(not_ok)} answers other than 200 (last 30), {self.nginx}:")
        lines += not_ok[-30:]
        lines += (self.nginx / "error.log").read_text(errors="replace").splitlines()[-15:]
        lines += [replica.log_tail() for role in ROLES for replica in self.replicas[role]]
        return "\n".join(lines)

    def stores_evidence(self, wrong: dict[int, list[str]]) -> list[str]:
        """Per chat: the messages Telegram delivered, those a gateway recorded (by status), those Rasa's tracker holds."""
        sent = collections.Counter(update["message"]["chat"]["id"] for update in self.fake.updates if "message" in update)
        engine = create_engine(self.database_url, future=True)
        try:
            with engine.connect() as connection:
                recorded = connection.execute(
                    text("SELECT chat_id, status, count(*) FROM received_updates WHERE chat_id = ANY(:ids) GROUP BY chat_id, status"),
                    {"ids": list(wrong)},
                ).all()
                heard = dict(connection.execute(
                    text("SELECT sender_id, count(*) FROM events WHERE type_name = 'user' AND sender_id = ANY(:ids) GROUP BY sender_id"),
                    {"ids": [str(chat_id) for chat_id in wrong]},
                ).all())
        except SQLAlchemyError as error:  # the evidence must not hide the failure it explains
            return [f"(the stores could not be read: {error})"]
        finally:
            engine.dispose()
        by_chat: dict[int, dict[str, int]] = collections.defaultdict(dict)
        for chat_id, status, count in recorded:
            by_chat[chat_id][status] = count
        unrecorded = sum(sent[chat_id] - sum(by_chat[chat_id].values()) for chat_id in wrong)
        pending = sum(statuses.get("pending", 0) for statuses in by_chat.values())
        rasa_extra = sum(max(heard.get(str(chat_id), 0) - sent[chat_id], 0) for chat_id in wrong)
        rasa_missing = sum(max(sent[chat_id] - heard.get(str(chat_id), 0), 0) for chat_id in wrong)
        lines = [
            f"in those chats: {unrecorded} messages no gateway recorded, {pending} recorded but still pending, "
            f"Rasa heard {rasa_extra} messages more than sent and missed {rasa_missing}",
        ]
        lines += [
            f"chat {chat_id}: {sent[chat_id]} messages sent, recorded {dict(by_chat[chat_id])}, Rasa heard {heard.get(str(chat_id), 0)}, "
            f"the chat read {len(seen)} bot messages (reference: {len(self.reference)})"
            for chat_id, seen in wrong.items()
        ]
        return lines

    def assert_every_chat_reads_the_reference(self, chats: list[FakeChat], started: float) -> None:
        deadline = started + DEADLINE_SECONDS
        while time.monotonic() < deadline and any(len(self.fake.messages_to(chat)) < len(self.reference) for chat in chats):
            time.sleep(0.5)
        time.sleep(SETTLE_SECONDS)
        elapsed = time.monotonic() - started
        seen = {chat.id: [shown(message) for message in self.fake.messages_to(chat)] for chat in chats}
        wrong = {chat_id: texts for chat_id, texts in seen.items() if texts != self.reference}
        assert not wrong, self.report(wrong, len(chats), elapsed)
        print(f"{len(chats)} chats x {len(MESSAGES)} messages answered once and in order in {elapsed:.0f} s")


def send_interleaved(fake: FakeBotAPI, chats: list[FakeChat], after_a_third: Callable[[], None] | None = None) -> None:
    """Every chat's conversation, one message of each chat in turn; `after_a_third` runs when a third is sent."""
    for sent, (message, chat) in enumerate(itertools.product(MESSAGES, chats)):
        if after_a_third is not None and sent == len(MESSAGES) * len(chats) // 3:
            after_a_third()
        fake.user_sends(chat, chat, message)
        time.sleep(SEND_INTERVAL_SECONDS)


def record_reference(fake: FakeBotAPI, chat: FakeChat) -> list[str]:
    """The conversation of one chat alone, each message sent once the previous one was fully answered."""
    for text in MESSAGES:
        before = len(fake.messages_to(chat))
        fake.user_sends(chat, chat, text)
        fake.wait_for_messages(chat, before + 1, timeout=60)
        _wait_until_quiet(fake, chat)
    return [shown(message) for message in fake.messages_to(chat)]


def _wait_until_quiet(fake: FakeBotAPI, chat: FakeChat, quiet_seconds: float = 1.5) -> None:
    """Until no more bot messages come to the chat for `quiet_seconds`: a message's answers are all sent."""
    count = len(fake.messages_to(chat))
    while True:
        time.sleep(quiet_seconds)
        if len(fake.messages_to(chat)) == count:
            return
        count = len(fake.messages_to(chat))


@pytest.fixture(scope="module")
def topology(tmp_path_factory) -> Iterator[Topology]:
    assert MODEL.is_file(), f"{MODEL} is missing: `make test` trains it before running pytest"
    folder = tmp_path_factory.mktemp("topology")
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()
    ports = {role: (free_port(), free_port()) for role in ROLES}
    proxy = f"http://127.0.0.1:{free_port()}"
    routes = [
        Route("= /telegram", "gateways", ports["gateway"], "error timeout http_502"),
        # Only a refused connection goes to the other Rasa: a message it was sent may have
        # changed the conversation already, and the gateway asks again itself.
        Route("/rasa/", "rasa", ports["rasa"], "error", strip_to="/", read_timeout_seconds=120),
        Route("/actions/", "actions", ports["actions"], "error timeout http_502", strip_to="/"),
    ]
    with contextlib.ExitStack() as cleanup:
        database_url = cleanup.enter_context(shared_database())
        load_knowledge(database_url)
        fake = cleanup.enter_context(FakeBotAPI(webhook_retry_delay=0.5, concurrent_webhook=True))
        nginx = cleanup.enter_context(running_nginx(folder / "nginx", int(proxy.rsplit(":", 1)[1]), routes))
        stores = {
            "TRACKER_DB_HOST": "127.0.0.1",
            "TRACKER_DB_PORT": "5432",
            "TRACKER_DB_NAME": database_url.rsplit("/", 1)[1],
            "TRACKER_DB_USER": "postgres",
            "TRACKER_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
            "REDIS_DB": str(REDIS_DB),
        }
        gateway = {
            **stores,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": fake.base_url,
            "TELEGRAM_WEBHOOK_URL": f"{proxy}/telegram",
            "TELEGRAM_WEBHOOK_SECRET": "topology-secret",
            "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "TELEGRAM_MEDIATOR_CHAT_ID": "",  # no mediators' group, whatever this shell has
            "RASA_URL": f"{proxy}/rasa",
            "ACTION_HEALTH_URL": f"{proxy}/actions/health",
            "DATABASE_URL": database_url,
            "ACOLLIDA_ENDPOINTS": "endpoints.production.yml",
            "ACOLLIDA_GATEWAY_TICK_SECONDS": "1",
            "ACOLLIDA_FLOOD_BURST": "100",
        }
        replicas: dict[str, list[Replica]] = {role: [] for role in ROLES}

        def start(role: str, number: int, command: list[str], environment: dict[str, str]) -> None:
            replica = start_replica(f"{role}-{number}", command, ports[role][number - 1], folder / f"{role}-{number}", environment)
            cleanup.callback(replica.stop)
            replicas[role].append(replica)

        # All at once: loading the model takes Rasa the longest, the others start meanwhile.
        for number, (actions_port, rasa_port, gateway_port) in enumerate(zip(ports["actions"], ports["rasa"], ports["gateway"]), start=1):
            # Each gateway also serves /health on a port of its own (5056 by default: one per machine).
            start("actions", number, action_server_command(actions_port), {"DATABASE_URL": database_url})
            start("rasa", number, rasa_server_command(str(MODEL), rasa_port, "endpoints.production.yml"),
                  {**stores, "ACTION_ENDPOINT_URL": f"{proxy}/actions/webhook"})
            start("gateway", number, gateway_command(folder / f"gateway-{number}" / "ready"),
                  {**gateway, "TELEGRAM_WEBHOOK_PORT": str(gateway_port), "ACOLLIDA_GATEWAY_HEALTH_PORT": str(free_port())})
        for replica in replicas["actions"]:
            _wait(replica, lambda: wait_until_up(f"http://127.0.0.1:{replica.port}/health", replica.process, replica.name, timeout=120))
        for replica in replicas["rasa"]:
            _wait(replica, lambda: wait_until_up(f"http://127.0.0.1:{replica.port}/status", replica.process, replica.name, timeout=300))
        for replica in replicas["gateway"]:
            _wait(replica, lambda: wait_until_ready(replica.var_dir / "ready", replica.process, replica.name, replica.name, timeout=180))

        reference = record_reference(fake, new_chats(fake, 1)[0])
        assert len(reference) >= len(MESSAGES), f"the reference chat was not answered: {reference}"
        yield Topology(fake, replicas, nginx, database_url, reference)


def _wait(replica: Replica, wait: Callable[[], None]) -> None:
    try:
        wait()
    except RuntimeError as error:
        raise RuntimeError(f"{error}\n{replica.log_tail(lines=100)}") from None


def test_fifty_chats_answered_once_in_order(topology):
    chats = new_chats(topology.fake, CHATS)
    started = time.monotonic()
    send_interleaved(topology.fake, chats)
    topology.assert_every_chat_reads_the_reference(chats, started)


def test_nothing_lost_when_one_replica_of_each_role_dies(topology):
    chats = new_chats(topology.fake, CHATS)
    started = time.monotonic()
    send_interleaved(topology.fake, chats, after_a_third=topology.kill_one_of_each_role)
    assert all(topology.replicas[role][1].process.poll() is None for role in ROLES), "a replica that was not killed stopped"
    topology.assert_every_chat_reads_the_reference(chats, started)
