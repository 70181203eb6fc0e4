"""What gateway replicas share: one lock per chat, and each chat's flood allowance.

Several gateways behind a load balancer (webhook mode) receive one chat's
updates on any replica. Its messages must still be answered one at a time,
in order, and its allowance must count them all, so both live in Redis, the
one Rasa's lock store already needs (the endpoints file names it). Without a
Redis lock store (the local SQLite setup) there is one gateway, and both live
in this process's memory. Either way they are bounded: a chat's lock exists
while someone holds or waits for it, a chat's allowance while it is not full.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import time
import uuid
from dataclasses import dataclass
from typing import AsyncIterator, Callable

LOCK_PREFIX = "acollida:chat-lock:"
FLOOD_PREFIX = "acollida:chat-flood:"
# A replica that dies holding a chat's lock frees it after this long; a holder renews it while it works.
LOCK_EXPIRY_SECONDS = 60
LOCK_RENEW_SECONDS = 20
LOCK_POLL_SECONDS = 0.05


class LocalChatLocks:
    """In this process: an asyncio lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id], self._locks[chat_id]

    def __len__(self) -> int:
        return len(self._locks)


class RedisChatLocks:
    """A lock per chat in Redis, seen by every replica; it expires if its holder dies."""

    # Deletes the key only if this holder still owns it (it may have expired and been taken).
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
    _RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"

    def __init__(self, redis) -> None:
        self.redis = redis
        # Within one replica an asyncio lock queues the waiters, so they do not all poll Redis.
        self._local = LocalChatLocks()

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        async with self._local.hold(chat_id):
            key, token = f"{LOCK_PREFIX}{chat_id}", uuid.uuid4().hex
            while not await self.redis.set(key, token, nx=True, px=LOCK_EXPIRY_SECONDS * 1000):
                await asyncio.sleep(LOCK_POLL_SECONDS)
            renewing = asyncio.create_task(self._renew(key, token))
            try:
                yield
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
                await self.redis.eval(self._RELEASE, 1, key, token)

    async def _renew(self, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(LOCK_RENEW_SECONDS)
            await self.redis.eval(self._RENEW, 1, key, token, LOCK_EXPIRY_SECONDS * 1000)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class LocalFloodLimit:
    """A token bucket per chat: a burst, then one message per interval; the rest waits its turn."""

    def __init__(self, burst: int, interval: dt.timedelta, clock: Callable[[], float] = time.monotonic):
        self.burst = burst
        self.rate = 1 / max(interval.total_seconds(), 1e-9)
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    async def allow(self, chat_id: int) -> bool:
        now = self._clock()
        self._forget_full(now)
        bucket = self._buckets.setdefault(chat_id, _Bucket(float(self.burst), now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _forget_full(self, now: float) -> None:
        """A bucket that has refilled is the same as no bucket: dropping it keeps memory to the chats writing now."""
        refill_seconds = self.burst / self.rate
        for chat_id in [chat for chat, bucket in self._buckets.items() if now - bucket.updated >= refill_seconds]:
            del self._buckets[chat_id]

    def __len__(self) -> int:
        return len(self._buckets)


class RedisFloodLimit:
    """The same token bucket in Redis, counted across replicas; the key expires once the bucket would be full."""

    _TAKE = """
local tokens, updated = tonumber(redis.call('hget', KEYS[1], 't')), tonumber(redis.call('hget', KEYS[1], 'u'))
local burst, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if tokens == nil then tokens, updated = burst, now end
tokens = math.min(burst, tokens + math.max(now - updated, 0) * rate)
local allowed = 0
if tokens >= 1 then tokens, allowed = tokens - 1, 1 end
redis.call('hset', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('pexpire', KEYS[1], ARGV[4])
return allowed
"""

    def __init__(self, redis, burst: int, interval: dt.timedelta):
        self.redis = redis
        self.burst = burst
        self.rate = 1 / max(interval.total_seconds(), 1e-9)

    async def allow(self, chat_id: int) -> bool:
        refill_ms = math.ceil(self.burst / self.rate * 1000) + 1000
        # Redis's clock, so replicas whose clocks differ count alike.
        seconds, microseconds = await self.redis.time()
        now = seconds + microseconds / 1e6
        allowed = await self.redis.eval(self._TAKE, 1, f"{FLOOD_PREFIX}{chat_id}", self.burst, self.rate, now, refill_ms)
        return bool(int(allowed))


def shared(redis_url: str | None, burst: int, interval: dt.timedelta):
    """(chat locks, flood limit, the Redis client or None): in Redis when one is configured, else in memory."""
    if not redis_url:
        return LocalChatLocks(), LocalFloodLimit(burst, interval), None
    from redis import asyncio as redis_asyncio

    client = redis_asyncio.from_url(redis_url)
    return RedisChatLocks(client), RedisFloodLimit(client, burst, interval), client
