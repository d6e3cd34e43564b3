"""The in-process store (one node)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from .base import Store

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    url = "memory://"

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._channels: dict[str, set[asyncio.Queue[str | None]]] = {}

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, deadline = item
        if deadline is not None and deadline <= time.monotonic():
            del self._data[key]
            return None
        return value

    def _set(self, key: str, value: str, ttl: float | None) -> None:
        self._data[key] = (value, None if ttl is None else time.monotonic() + ttl)
        if len(self._data) % 1024 == 0:
            self._sweep()

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, d) in self._data.items() if d is not None and d <= now]:
            del self._data[key]

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def put(self, key: str, value: str, ttl: float | None = None) -> None:
        self._set(key, value, ttl)

    async def put_new(self, key: str, value: str, ttl: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        self._set(key, value, ttl)
        return True

    async def put_if(
        self, key: str, value: str, ttl: float | None, guard: str, expected: str
    ) -> bool:
        if self._live(guard) != expected:
            return False
        self._set(key, value, ttl)
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def take(self, key: str) -> str | None:
        value = self._live(key)
        self._data.pop(key, None)
        return value

    async def incr(self, key: str, ttl: float | None = None) -> int:
        current = self._live(key)
        if current is None:
            self._set(key, "1", ttl)
            return 1
        value = int(current) + 1
        self._data[key] = (str(value), self._data[key][1])
        return value

    async def expire(self, key: str, ttl: float) -> None:
        value = self._live(key)
        if value is not None:
            self._set(key, value, ttl)

    async def publish(self, channel: str, message: str) -> None:
        for queue in self._channels.get(channel, ()):
            queue.put_nowait(message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._channels.setdefault(channel, set()).add(queue)
        try:
            while (message := await queue.get()) is not None:
                yield message
        finally:
            self._channels[channel].discard(queue)

    async def close(self) -> None:
        for queues in self._channels.values():
            for queue in queues:
                queue.put_nowait(None)
