"""A session's outgoing frames: bounded, in order, with room for the close frame."""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["CloseFrame", "Outbox"]


class CloseFrame:
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class Outbox:
    """Frames wait here for the writer. ``put`` waits while ``limit`` frames are queued (a
    client that does not read slows its own session down, never the server); the close
    request never waits and goes out after the frames queued before it."""

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._items: deque[str] = deque()
        self._close: CloseFrame | None = None
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closing(self) -> bool:
        return self._close is not None

    async def put(self, frame: str) -> None:
        while len(self._items) >= self.limit and not self.closing:
            self._writable.clear()
            await self._writable.wait()
        if self.closing:
            return  # nothing more goes out after the close frame
        self._items.append(frame)
        self._readable.set()

    def request_close(self, code: int, reason: str) -> bool:
        """Ask for the close frame; False if one was already asked for."""
        if self._close is not None:
            return False
        self._close = CloseFrame(code, reason)
        self._readable.set()
        self._writable.set()
        return True

    async def get(self) -> str | CloseFrame:
        while not self._items and not self.closing:
            self._readable.clear()
            await self._readable.wait()
        if self._items:
            self._writable.set()
            return self._items.popleft()
        assert self._close is not None
        return self._close
