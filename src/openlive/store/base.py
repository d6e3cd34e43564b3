"""The store interface: a few atomic operations on string keys with lifetimes."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator

from ..errors import ConfigError

__all__ = ["Store", "open_store"]


class Store(abc.ABC):
    """Keys and values are strings; ``ttl`` is in seconds (``None``: no expiry).

    Every method is a single atomic step on the store, so several nodes can use one store
    without locks of their own.
    """

    url: str = ""

    @abc.abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def put(self, key: str, value: str, ttl: float | None = None) -> None: ...

    @abc.abstractmethod
    async def put_new(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Write ``key`` only if it does not exist; True if written."""

    @abc.abstractmethod
    async def put_if(
        self, key: str, value: str, ttl: float | None, guard: str, expected: str
    ) -> bool:
        """Write ``key`` only while the key ``guard`` holds ``expected``; True if written."""

    @abc.abstractmethod
    async def delete(self, *keys: str) -> None: ...

    @abc.abstractmethod
    async def take(self, key: str) -> str | None:
        """Read and delete ``key`` in one step (None if it did not exist)."""

    @abc.abstractmethod
    async def incr(self, key: str, ttl: float | None = None) -> int:
        """Add one to the counter at ``key`` (created at 0) and return the new value; ``ttl``
        is set when the counter is created."""

    @abc.abstractmethod
    async def expire(self, key: str, ttl: float) -> None:
        """Give an existing key a new lifetime (nothing if it does not exist)."""

    @abc.abstractmethod
    async def publish(self, channel: str, message: str) -> None:
        """Tell every node subscribed to ``channel`` (this one included)."""

    @abc.abstractmethod
    def subscribe(self, channel: str) -> AsyncIterator[str]:
        """The messages published on ``channel`` from now on, until the store closes."""

    async def ping(self) -> None:  # noqa: B027 - reachable by default
        """Raise if the store cannot be reached."""

    async def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release connections; subscriptions end."""


def open_store(url: str | None) -> Store:
    """``memory://`` (or nothing) for one process; ``redis://HOST:PORT/DB`` (or ``rediss://``,
    ``unix://``) for several nodes."""
    from .memory import MemoryStore
    from .redis import RedisStore

    if not url or url.startswith("memory:"):
        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url)
    raise ConfigError(f"store must be memory:// or redis://HOST:PORT/DB, not {url!r}")
