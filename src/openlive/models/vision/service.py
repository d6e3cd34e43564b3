"""The server's vision service: images in, text for the LLM out, off the event loop.

One :class:`Vision` per server wraps the :class:`~.stage.VisionStage`. Sessions hand it each
frame as it arrives (:meth:`Vision.see`): the frame is decoded and described on a compute
thread at :data:`~openlive.models.scheduler.INTERIM` priority, below every reply, so frames
never delay speech; a session keeps at most one frame waiting (a newer one replaces it).
When a reply is about to read an image, :meth:`Vision.context` gives its description: from
the cache (keyed by the encoded bytes) when it was described ahead, else computed there and
then on the compute thread the reply runs on.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from ..scheduler import INTERIM, Scheduler
from .stage import VisionStage

__all__ = ["Vision"]


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

    def context(self, data: bytes, mime_type: str, resolution: str | None = None) -> str:
        """The description of an encoded image, as the LLM reads it (blocking: call it on a
        worker thread). Raises :class:`~openlive.errors.InvalidArgument` for a bad image."""
        return self._describe(data, mime_type, resolution, "image")

    async def see(self, data: bytes, mime_type: str, resolution: str | None, where: str) -> str:
        """Describe a frame ahead of the reply that will read it (on a compute thread, below
        replies). A bad image raises :class:`~openlive.errors.InvalidArgument` naming
        ``where``."""
        return await self.scheduler.run(
            lambda: self._describe(data, mime_type, resolution, where), priority=INTERIM
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

    def stats(self) -> dict[str, float]:
        return {**self.stage.stats(), "skipped": self.skipped}
