"""The synchronous session: the async one driven on a private event loop thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

from ..types import ServerMessage
from .session import AsyncSession

__all__ = ["Session", "SyncRunner"]

T = TypeVar("T")


class SyncRunner:
    """An event loop on a daemon thread, running coroutines for synchronous callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, daemon=True, name="openlive-sync"
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class Session:
    """Blocking versions of :class:`AsyncSession`'s methods."""

    def __init__(self, inner: AsyncSession, runner: SyncRunner) -> None:
        self._inner = inner
        self._runner = runner

    @property
    def session_id(self) -> str | None:
        return self._inner.session_id

    @property
    def is_closed(self) -> bool:
        return self._inner.is_closed

    @property
    def reconnects(self) -> int:
        return self._inner.reconnects

    @property
    def resumption_handle(self) -> str | None:
        return self._inner.resumption_handle

    def _iterate(self, agen: Any) -> Iterator[ServerMessage]:
        while True:
            try:
                yield self._runner.run(agen.__anext__())
            except StopAsyncIteration:
                return

    def receive(self) -> Iterator[ServerMessage]:
        """Messages up to and including the one that completes the turn."""
        return self._iterate(self._inner.receive())

    def stream(self) -> Iterator[ServerMessage]:
        return self._iterate(self._inner.stream())

    def send_client_content(self, turns: Any = None, turn_complete: bool = True, **kw: Any) -> None:
        self._runner.run(self._inner.send_client_content(turns, turn_complete, **kw))

    def send_realtime_input(self, **kw: Any) -> None:
        self._runner.run(self._inner.send_realtime_input(**kw))

    def send_tool_response(self, function_responses: Any = None, **kw: Any) -> None:
        self._runner.run(self._inner.send_tool_response(function_responses, **kw))

    def send_context_update(self, system_instruction: Any = None, tools: Any = None) -> None:
        self._runner.run(self._inner.send_context_update(system_instruction, tools))

    def send(self, message: Any = None, turn_complete: bool = True) -> None:
        self._runner.run(self._inner.send(message, turn_complete))

    def send_media_chunks(self, chunks: Any) -> None:
        self._runner.run(self._inner.send_media_chunks(chunks))

    def stream_frames(self, source: Any, fps: float = 1.0, **options: Any) -> int:
        """Send every frame of ``source``, ``fps`` a second; how many were sent (blocks until
        the source ends: see :meth:`AsyncSession.stream_frames`)."""
        return self._runner.run(self._inner.stream_frames(source, fps, **options))

    def close(self) -> None:
        self._runner.run(self._inner.close())
