"""How late the event loop runs: a probe that sleeps a short interval and measures how much
longer the sleep took. Anything that blocks the loop (inference, a lock held by a compute
thread, blocking I/O) shows up here, and in ``/healthz`` as ``loop_lag_ms``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

__all__ = ["LoopMonitor"]

log = logging.getLogger("openlive.server")


class LoopMonitor:
    def __init__(self, interval: float = 0.05, warn_after: float = 0.25) -> None:
        self.interval = interval
        self.warn_after = warn_after
        self.worst = 0.0
        self.recent: deque[float] = deque(maxlen=1200)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._probe(), name="loop-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _probe(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = time.perf_counter() - before - self.interval
            self.recent.append(lag)
            if lag > self.worst:
                self.worst = lag
            if lag > self.warn_after:
                log.warning("event loop blocked for %.0f ms", lag * 1000)

    def describe(self) -> dict[str, float]:
        ordered = sorted(self.recent)

        def pct(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        return {
            "worst": round(self.worst * 1000, 1),
            "p50_recent": pct(0.5) if ordered else 0.0,
            "p99_recent": pct(0.99) if ordered else 0.0,
        }
