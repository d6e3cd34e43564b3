"""The output side of voice, per session: text segments → speech → paced audio chunks.

Segments are synthesized in order beside the compute slot (so speech keeps up while the LLM is
still writing), cut into ``chunk_ms`` chunks and released at real-time pace, at most ``lead``
seconds ahead of the client's playback clock. The session therefore knows, at any moment,
how much of the reply the user has had time to hear.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable

from ..audio.pcm import OUTPUT_RATE, float_to_pcm16
from ..errors import EngineError
from ..session.events import EngineEvent, SpeechAudio, SpeechFinished, SpeechSegment
from .scheduler import Scheduler
from .tts import TtsBackend

__all__ = ["VoiceOutput"]

log = logging.getLogger("openlive.voice")
_FINISH = object()


class VoiceOutput:
    def __init__(
        self,
        *,
        tts: TtsBackend,
        scheduler: Scheduler,
        emit: Callable[[EngineEvent], None],
        chunk_ms: int = 100,
        lead_ms: int = 250,
        fail: Callable[[str], None] | None = None,
    ) -> None:
        self.fail = fail
        self.tts = tts
        self.scheduler = scheduler
        self.emit = emit
        self.chunk_bytes = OUTPUT_RATE * chunk_ms // 1000 * 2
        self.lead = lead_ms / 1000
        self._turn = 0
        self._texts: asyncio.Queue[object] = asyncio.Queue()
        self._audio: asyncio.Queue[object] = asyncio.Queue(maxsize=2)
        self._tasks: list[asyncio.Task[None]] = []
        self.playback_end = 0.0
        """Monotonic time at which the client will have played everything released so far."""

    def speak(self, turn_id: int, text: str) -> None:
        if turn_id != self._turn:
            self._restart(turn_id)
        self._texts.put_nowait(text)

    def finish(self, turn_id: int) -> None:
        if turn_id != self._turn:
            self._restart(turn_id)
        self._texts.put_nowait(_FINISH)

    def stop(self, turn_id: int) -> None:
        if turn_id == self._turn:
            self._cancel()
            self._turn = 0

    async def close(self) -> None:
        self._cancel()

    def _cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self._texts = asyncio.Queue()
        self._audio = asyncio.Queue(maxsize=2)
        self.playback_end = 0.0

    def _restart(self, turn_id: int) -> None:
        self._cancel()
        self._turn = turn_id
        self._tasks = [
            asyncio.create_task(self._synthesize(turn_id, self._texts, self._audio)),
            asyncio.create_task(self._release(turn_id, self._audio)),
        ]

    async def _synthesize(
        self, turn_id: int, texts: asyncio.Queue[object], audio: asyncio.Queue[object]
    ) -> None:
        while True:
            item = await texts.get()
            if item is _FINISH:
                await audio.put(_FINISH)
                return
            assert isinstance(item, str)
            text: str = item
            started = time.monotonic()
            try:
                samples = await self.scheduler.run_side(
                    functools.partial(self.tts.synthesize, text)
                )
            except EngineError as exc:
                log.warning("speech synthesis failed: %s", exc)
                if self.fail is not None:
                    self.fail(f"speech synthesis failed: {exc}")
                return
            await audio.put((item, float_to_pcm16(samples), time.monotonic() - started))

    async def _release(self, turn_id: int, audio: asyncio.Queue[object]) -> None:
        while True:
            item = await audio.get()
            if item is _FINISH:
                await self._sleep_until(self.playback_end - self.lead)
                self.emit(SpeechFinished(turn_id, max(0.0, self.playback_end - time.monotonic())))
                return
            assert isinstance(item, tuple)
            text: str = item[0]
            pcm: bytes = item[1]
            synth_s: float = item[2]
            now = time.monotonic()
            start = max(now, self.playback_end)
            seconds = len(pcm) / 2 / OUTPUT_RATE
            self.emit(SpeechSegment(turn_id, text, seconds, start, synth_s))
            for i in range(0, len(pcm), self.chunk_bytes):
                chunk = pcm[i : i + self.chunk_bytes]
                at = start + i / 2 / OUTPUT_RATE
                await self._sleep_until(at - self.lead)
                self.emit(SpeechAudio(turn_id, chunk))
            self.playback_end = start + seconds

    @staticmethod
    async def _sleep_until(when: float) -> None:
        delay = when - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
