"""The owner of a session's tasks: it starts them, hears of their failures, and cancels and
awaits every one of them when the session ends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

__all__ = ["TaskOwner"]

log = logging.getLogger("openlive.runtime")


class TaskOwner:
    """Like an :class:`asyncio.TaskGroup` whose failures are reported instead of raised.

    ``spawn(coro, stage)`` runs ``coro`` as a task; if it raises anything but cancellation,
    ``on_failure(stage, exc)`` is awaited (from that task) so the session can close with a
    reason naming the stage. :meth:`close` cancels everything still running and waits for it,
    up to a bound.
    """

    def __init__(self, on_failure: Callable[[str, BaseException], Awaitable[None]]) -> None:
        self._on_failure = on_failure
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, Any], stage: str) -> asyncio.Task[Any]:
        if self._closed:
            coro.close()
            raise RuntimeError(f"cannot start {stage}: the session has ended")
        task = asyncio.get_running_loop().create_task(self._guard(coro, stage), name=stage)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coro: Coroutine[Any, Any, Any], stage: str) -> Any:
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._on_failure(stage, exc)
            return None

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def close(self, timeout: float = 5.0, keep: asyncio.Task[Any] | None = None) -> None:
        """Cancel every task (but ``keep``) and wait for them to end, at most ``timeout`` s."""
        self._closed = True
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current and t is not keep]
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            log.warning(
                "task %s did not end within %.1f s of cancellation", task.get_name(), timeout
            )
        del done
