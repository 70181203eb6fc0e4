"""What gateway replicas share: a lock per chat and a flood allowance per chat, in memory and in Redis."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
import pytest_asyncio
from redis import asyncio as redis_asyncio

from bot.telegram import replicas

pytestmark = pytest.mark.asyncio(loop_scope="function")

REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest_asyncio.fixture
async def redis():
    client = redis_asyncio.from_url(REDIS_URL)
    yield client
    async for key in client.scan_iter("acollida:*"):
        await client.delete(key)
    await client.close()


async def _holders_never_overlap(make_lock, chat_id: int) -> list[int]:
    """Ten holders of one chat's lock, as if on different replicas: returns the order they ran in."""
    inside, order = [], []

    async def hold(number: int) -> None:
        async with make_lock(number).hold(chat_id):
            inside.append(number)
            assert len(inside) == 1, "two holders of one chat's lock at once"
            await asyncio.sleep(0.01)
            order.append(number)
            inside.remove(number)

    await asyncio.gather(*(hold(number) for number in range(10)))
    return order


async def test_a_local_chat_lock_admits_one_holder_and_is_dropped_once_free():
    locks = replicas.LocalChatLocks()
    order = await _holders_never_overlap(lambda _: locks, 7)
    assert sorted(order) == list(range(10))
    assert len(locks) == 0  # nothing kept for a chat nobody is handling


async def test_a_redis_chat_lock_is_one_for_every_replica(redis):
    # A lock object per "replica": they share nothing but Redis.
    replica_locks = [replicas.RedisChatLocks(redis) for _ in range(10)]
    chat_id = int(uuid.uuid4().int % 10**9)
    order = await _holders_never_overlap(lambda number: replica_locks[number], chat_id)
    assert sorted(order) == list(range(10))
    assert await redis.exists(f"{replicas.LOCK_PREFIX}{chat_id}") == 0  # released


async def test_a_redis_chat_lock_left_by_a_dead_replica_expires(redis, monkeypatch):
    monkeypatch.setattr(replicas, "LOCK_EXPIRY_SECONDS", 1)
    chat_id = int(uuid.uuid4().int % 10**9)
    await redis.set(f"{replicas.LOCK_PREFIX}{chat_id}", "a replica that died", px=1000)

    async def take_it_over() -> bytes | None:
        async with replicas.RedisChatLocks(redis).hold(chat_id):
            return await redis.get(f"{replicas.LOCK_PREFIX}{chat_id}")

    assert await asyncio.wait_for(take_it_over(), timeout=5) != b"a replica that died"


async def test_the_local_flood_limit_allows_a_burst_then_one_message_per_interval_and_forgets_full_buckets():
    now = [0.0]
    limit = replicas.LocalFloodLimit(burst=3, interval=dt.timedelta(seconds=2), clock=lambda: now[0])
    assert [await limit.allow(1) for _ in range(4)] == [True, True, True, False]
    assert await limit.allow(2)  # another chat is not held back
    now[0] += 2.0
    assert await limit.allow(1) and not await limit.allow(1)
    now[0] += 60.0
    await limit.allow(3)
    assert len(limit) == 1  # chats 1 and 2 refilled long ago: only the chat writing now is kept


async def test_the_redis_flood_limit_counts_a_chat_across_replicas_and_expires(redis):
    chat_id = int(uuid.uuid4().int % 10**9)
    first, second = (replicas.RedisFloodLimit(redis, burst=3, interval=dt.timedelta(seconds=0.5)) for _ in range(2))
    allowed = [await first.allow(chat_id), await second.allow(chat_id), await first.allow(chat_id), await second.allow(chat_id)]
    assert allowed == [True, True, True, False]  # one allowance, whichever replica counts
    assert await first.allow(chat_id + 1)
    ttl = await redis.pttl(f"{replicas.FLOOD_PREFIX}{chat_id}")
    assert 0 < ttl <= (3 * 0.5 + 1) * 1000  # gone once the bucket would be full again: bounded
    await asyncio.sleep(0.6)
    assert await second.allow(chat_id)


class _RecordingBot:
    """Telegram as far as the outbox needs it: takes a message a moment after it is sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_message(self, chat_id, text, **_options):
        await asyncio.sleep(0.01)
        self.sent.append(text)
        return type("Sent", (), {"message_id": len(self.sent)})()


async def test_two_replicas_send_each_kept_message_once_and_in_order(database_url):
    from bot.database.schema import upgrade_schema
    from bot.database.sessions import engine_for, session_scope
    from bot.telegram import outbox

    upgrade_schema(database_url)
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        for number in range(20):
            outbox.put_text(session, 4242, f"message {number}")
    bot = _RecordingBot()
    first, second = outbox.Outbox(engine, lambda: bot), outbox.Outbox(engine, lambda: bot)
    # Both replicas' background rounds find the chat's messages due at the same moment.
    await asyncio.gather(first.deliver(4242), second.deliver(4242), first.deliver_due(), second.deliver_due())
    await asyncio.wait_for(_until(lambda: len(bot.sent) >= 20), timeout=20)
    await asyncio.sleep(0.3)  # a second copy would arrive by now
    assert bot.sent == [f"message {number}" for number in range(20)]
    await first.stop()
    await second.stop()


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.02)
