"""The Redis store (several nodes share one Redis)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ..errors import ConfigError
from .base import Store

__all__ = ["RedisStore"]

# KEYS[1] key, KEYS[2] guard; ARGV value, expected, ttl in ms (0: none)
_PUT_IF = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""
# KEYS[1] counter; ARGV ttl in ms (0: none)
_INCR = """
local v = redis.call('INCR', KEYS[1])
if v == 1 and tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v
"""


def _ms(ttl: float | None) -> int:
    return 0 if ttl is None else max(1, int(ttl * 1000))


class RedisStore(Store):
    def __init__(self, url: str, *, prefix: str = "openlive:") -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:  # pragma: no cover - redis is a dependency
            raise ConfigError("the redis store needs the redis package") from exc
        self.url = url
        self.prefix = prefix
        self._redis: Any = aioredis.from_url(url, decode_responses=True)
        self._put_if = self._redis.register_script(_PUT_IF)
        self._incr = self._redis.register_script(_INCR)
        self._closing = asyncio.Event()

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> str | None:
        value: str | None = await self._redis.get(self._k(key))
        return value

    async def put(self, key: str, value: str, ttl: float | None = None) -> None:
        await self._redis.set(self._k(key), value, px=_ms(ttl) or None)

    async def put_new(self, key: str, value: str, ttl: float | None = None) -> bool:
        return bool(await self._redis.set(self._k(key), value, px=_ms(ttl) or None, nx=True))

    async def put_if(
        self, key: str, value: str, ttl: float | None, guard: str, expected: str
    ) -> bool:
        keys = [self._k(key), self._k(guard)]
        return bool(await self._put_if(keys=keys, args=[value, expected, _ms(ttl)]))

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._redis.delete(*(self._k(k) for k in keys))

    async def take(self, key: str) -> str | None:
        value: str | None = await self._redis.getdel(self._k(key))
        return value

    async def incr(self, key: str, ttl: float | None = None) -> int:
        return int(await self._incr(keys=[self._k(key)], args=[_ms(ttl)]))

    async def expire(self, key: str, ttl: float) -> None:
        await self._redis.pexpire(self._k(key), _ms(ttl))

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(self._k(channel), message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._k(channel))
        try:
            while not self._closing.is_set():
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    yield str(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
                await pubsub.aclose()

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(Exception):
            await self._redis.aclose()
