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


def _key(data: bytes, mime_type: str, resolution: str | None) -> str:
    return hashlib.blake2b(f"{mime_type}:{resolution}:".encode() + data, digest_size=16).hexdigest()


def _background() -> None:
    """Run the reading-ahead thread at the lowest CPU priority (Linux: a thread's nice value
    is its own): when a reply starts during a reading, the kernel gives the cores to the
    model's threads and the reading waits."""
    with contextlib.suppress(AttributeError, OSError):  # other systems: as it is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class Vision:
    """Frame descriptions for every session of a server (thread-safe).

    Two caches, both keyed by the encoded bytes: what was read ahead (small: most frames of a
    stream are never taken by a turn), and what a prompt has read (large: those images stay in
    conversation histories, and every later prompt of the session reads them again). Readings
    a prompt needs run on the compute thread with a stage of their own (all the scheduler's
    threads), never waiting for the read-ahead thread, which may be starved at nice 19."""

    def __init__(
        self,
        scheduler: Scheduler,
        stage: VisionStage,
        cache_size: int = 64,
        read_cache_size: int = 2048,
    ) -> None:
        self.scheduler = scheduler
        self.stage = stage
        self.cache_size = cache_size
        self.read_cache_size = read_cache_size
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._read: OrderedDict[str, str] = OrderedDict()
        self._inline: VisionStage | None = None
        self._lock = threading.Lock()
        self.skipped = 0
        """Frames replaced by a newer one before they were described."""
        self._ahead = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="openlive-vision", initializer=_background
        )

    def context(self, data: bytes, mime_type: str, resolution: str | None = None) -> str:
        """The description of an encoded image, as the LLM reads it (blocking: call it on the
        compute thread). Raises :class:`~openlive.errors.InvalidArgument` for a bad image."""
        key = _key(data, mime_type, resolution)
        with self._lock:
            known = self._read.get(key) or self._cache.get(key)
            if known is not None:
                self._keep(self._read, key, known, self.read_cache_size)
                return known
            if self._inline is None:
                self._inline = VisionStage(threads=self.scheduler.threads)
            inline = self._inline
        text = inline.describe_frame(data, mime_type, resolution, where="image").as_context()
        with self._lock:
            self._keep(self._read, key, text, self.read_cache_size)
        return text

    async def see(self, data: bytes, mime_type: str, resolution: str | None, where: str) -> str:
        """Describe a frame ahead of the reply that will read it (on the service's thread,
        beside the compute slot). A bad image raises
        :class:`~openlive.errors.InvalidArgument` naming ``where``."""
        return await asyncio.get_running_loop().run_in_executor(
            self._ahead, self._describe, data, mime_type, resolution, where
        )

    async def check(self, data: bytes, mime_type: str, where: str) -> None:
        """Decode a frame only, off the loop (a bad one raises InvalidArgument naming
        ``where``)."""
        from .frames import decode_frame

        await self.scheduler.run(lambda: decode_frame(data, mime_type, where=where), compute=False)

    def _describe(self, data: bytes, mime_type: str, resolution: str | None, where: str) -> str:
        key = _key(data, mime_type, resolution)
        with self._lock:
            known = self._read.get(key) or self._cache.get(key)
            if known is not None:
                return known
        text = self.stage.describe_frame(data, mime_type, resolution, where=where).as_context()
        with self._lock:
            self._keep(self._cache, key, text, self.cache_size)
        return text

    @staticmethod
    def _keep(cache: OrderedDict[str, str], key: str, text: str, size: int) -> None:
        cache[key] = text
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)

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
