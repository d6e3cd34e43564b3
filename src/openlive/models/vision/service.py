"""The server's vision service: images in, text for the LLM out, off the event loop.

One :class:`Vision` per server wraps the :class:`~.stage.VisionStage` (OCR on one thread).
Sessions hand it each frame as it arrives (:meth:`Vision.see`): frames are decoded and
described ahead, one at a time for the whole server, on a thread of the service's own, beside
the compute slot rather than in it: a reply never waits for a frame being read (it shares the
cores with it for that time), and however many sessions share screens, reading them takes at
most one core. A session keeps at most one frame waiting (a newer one replaces it). When a
reply is about to read an image, :meth:`Vision.context` gives its description: from the cache
(keyed by the encoded bytes) when it was described ahead, else computed there and then on the
compute thread the reply runs on.

A frame is read ahead only while the compute slot is idle (:meth:`Vision.idle`), on a
thread at the lowest CPU priority: a reading never starts while a reply is being written, and
a reply that starts during one takes the cores from it. (Measured, see RESULTS.md: describing
frames in the compute slot, below replies, made a reply that arrived during a 0.6-0.9 s OCR
job wait for all of it; beside the slot with no wait for idle, the two shared the cores.)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from ..scheduler import Scheduler
from .stage import VisionStage

__all__ = ["Vision"]


def _background() -> None:
    """Run the reading-ahead thread at the lowest CPU priority (Linux: a thread's nice value
    is its own): when a reply starts during a reading, the kernel gives the cores to the
    model's threads and the reading waits."""
    with contextlib.suppress(AttributeError, OSError):  # other systems: as it is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class Vision:
    """Frame descriptions for every session of a server (thread-safe)."""

    def __init__(self, scheduler: Scheduler, stage: VisionStage, cache_size: int = 64) -> None:
        self.scheduler = scheduler
        self.stage = stage
        self.cache_size = cache_size
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.skipped = 0
        """Frames replaced by a newer one before they were described."""
        self._ahead = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="openlive-vision", initializer=_background
        )

    def context(self, data: bytes, mime_type: str, resolution: str | None = None) -> str:
        """The description of an encoded image, as the LLM reads it (blocking: call it on a
        worker thread). Raises :class:`~openlive.errors.InvalidArgument` for a bad image."""
        return self._describe(data, mime_type, resolution, "image")

    async def see(self, data: bytes, mime_type: str, resolution: str | None, where: str) -> str:
        """Describe a frame ahead of the reply that will read it (on the service's thread,
        beside the compute slot). A bad image raises
        :class:`~openlive.errors.InvalidArgument` naming ``where``."""
        return await asyncio.get_running_loop().run_in_executor(
            self._ahead, self._describe, data, mime_type, resolution, where
        )

    async def check(self, data: bytes, mime_type: str, where: str) -> None:
        """Decode a frame only (for an engine that reads the pixels itself), off the loop."""
        from .frames import decode_frame

        await self.scheduler.run(lambda: decode_frame(data, mime_type, where=where), compute=False)

    def _describe(self, data: bytes, mime_type: str, resolution: str | None, where: str) -> str:
        key = hashlib.blake2b(
            f"{mime_type}:{resolution}:".encode() + data, digest_size=16
        ).hexdigest()
        with self._lock:
            known = self._cache.get(key)
            if known is not None:
                self._cache.move_to_end(key)
                return known
        facts = self.stage.describe_frame(data, mime_type, resolution, where=where)
        text = facts.as_context()
        with self._lock:
            self._cache[key] = text
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return text

    async def idle(self, poll: float = 0.05) -> None:
        """Wait until no compute job runs or waits: frames are read ahead only then, so a
        reading never starts while a reply is being written."""
        while self.scheduler.busy:
            await asyncio.sleep(poll)

    async def close(self) -> None:
        """Let the frame being read finish (off the loop) and drop the ones queued."""
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self._ahead.shutdown(wait=True, cancel_futures=True)
        )

    def stats(self) -> dict[str, float]:
        return {**self.stage.stats(), "skipped": self.skipped}
