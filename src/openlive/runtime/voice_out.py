"""The output side of voice, per session: text pieces, speech, paced audio chunks.

Pieces are synthesized in order beside the compute slot (so speech keeps up while the LLM is
still writing). Each synthesized piece is reported to the session core, which puts it on the
playback clock and answers with :meth:`VoiceOut.play`; the pacer then releases it in
``chunk_ms`` chunks at real-time pace, at most ``lead`` seconds ahead of the client's
playback. Both queues are bounded: synthesis runs at most two pieces ahead of playback.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable

from ..audio.pcm import OUTPUT_RATE, float_to_pcm16
from ..models.scheduler import Scheduler
from ..models.speech.tts import TtsBackend
from ..session import EngineEvent, SpeechAudio, SpeechFinished, SpeechReady
from .tasks import TaskOwner

__all__ = ["CHARS_PER_SECOND", "TEXT_QUEUE", "VoiceOut"]

TEXT_QUEUE = 64
"""Pieces of a reply waiting for synthesis (the LLM waits when it is full)."""
CHARS_PER_SECOND = 16.0
"""How fast the voices speak written text, for text not yet synthesized (Piper's voices read
English at ~15-22 characters a second; the lower end, so speech ahead is not overestimated)."""


class _Finish:
    pass


class VoiceOut:
    def __init__(
        self,
        *,
        tts: TtsBackend,
        scheduler: Scheduler,
        emit: Callable[[EngineEvent], Awaitable[None]],
        tasks: TaskOwner,
        chunk_ms: int = 100,
        lead_ms: int = 250,
    ) -> None:
        self.tts = tts
        self.scheduler = scheduler
        self.emit = emit
        self.tasks = tasks
        self.chunk_bytes = OUTPUT_RATE * chunk_ms // 1000 * 2
        self.lead = lead_ms / 1000
        self._turn = 0
        self._texts: asyncio.Queue[str | _Finish] = asyncio.Queue(TEXT_QUEUE)
        self._plays: asyncio.Queue[tuple[bytes, float] | _Finish] = asyncio.Queue(2)
        self._ready: bytes = b""
        self._workers: list[asyncio.Task[None]] = []
        # what :meth:`slack` reads, from any thread: plain numbers, written on the loop
        self._speaking = False
        self._pending_chars = 0
        self._playing_until = 0.0

    def slack(self) -> float:
        """Seconds of the reply's speech the client has ahead of it now: audio placed on the
        playback clock and not yet played, plus text written and not yet synthesized (at
        :data:`CHARS_PER_SECOND`); ``inf`` when no reply is being spoken. Safe off the event
        loop (the scheduler reads it between tokens)."""
        if not self._speaking:
            return float("inf")
        ahead = max(0.0, self._playing_until - time.monotonic())
        return ahead + self._pending_chars / CHARS_PER_SECOND

    async def speak(self, turn_id: int, text: str) -> None:
        if turn_id != self._turn:
            self._restart(turn_id)
        self._speaking = True
        self._pending_chars += len(text)
        await self._texts.put(text)

    async def finish(self, turn_id: int) -> None:
        if turn_id != self._turn:
            self._restart(turn_id)
        await self._texts.put(_Finish())

    async def play(self, turn_id: int, start: float) -> None:
        """The core placed the piece just synthesized at ``start`` on the playback clock."""
        if turn_id == self._turn and self._ready:
            pcm, self._ready = self._ready, b""
            self._playing_until = max(self._playing_until, start + len(pcm) / 2 / OUTPUT_RATE)
            await self._plays.put((pcm, start))

    @property
    def backlog(self) -> tuple[int, int]:
        """Reply text pieces awaiting synthesis, synthesized pieces awaiting playback."""
        return self._texts.qsize(), self._plays.qsize()

    def stop(self, turn_id: int) -> None:
        if turn_id == self._turn:
            self._cancel()
            self._turn = 0

    def _cancel(self) -> None:
        for task in self._workers:
            task.cancel()
        self._workers = []
        self._texts = asyncio.Queue(TEXT_QUEUE)
        self._plays = asyncio.Queue(2)
        self._ready = b""
        self._speaking = False
        self._pending_chars = 0
        self._playing_until = 0.0

    def _restart(self, turn_id: int) -> None:
        self._cancel()
        self._turn = turn_id
        self._workers = [
            self.tasks.spawn(
                self._synthesize(turn_id, self._texts, self._plays), "speech synthesis"
            ),
            self.tasks.spawn(self._release(turn_id, self._plays), "audio pacing"),
        ]

    async def _synthesize(
        self,
        turn_id: int,
        texts: asyncio.Queue[str | _Finish],
        plays: asyncio.Queue[tuple[bytes, float] | _Finish],
    ) -> None:
        while True:
            item = await texts.get()
            if isinstance(item, _Finish):
                await plays.put(item)
                return
            started = time.monotonic()
            try:
                samples = await self.scheduler.run_side(
                    functools.partial(self.tts.synthesize, item)
                )
            finally:
                if texts is self._texts:  # not a turn stopped meanwhile: its count was reset
                    self._pending_chars = max(0, self._pending_chars - len(item))
            self._ready = float_to_pcm16(samples)
            seconds = samples.size / OUTPUT_RATE
            await self.emit(SpeechReady(turn_id, item, seconds, time.monotonic() - started))

    async def _release(
        self, turn_id: int, plays: asyncio.Queue[tuple[bytes, float] | _Finish]
    ) -> None:
        end = 0.0
        while True:
            item = await plays.get()
            if isinstance(item, _Finish):
                await _sleep_until(end - self.lead)
                if plays is self._plays:
                    self._speaking = False
                await self.emit(SpeechFinished(turn_id))
                return
            pcm, start = item
            for i in range(0, len(pcm), self.chunk_bytes):
                await _sleep_until(start + i / 2 / OUTPUT_RATE - self.lead)
                await self.emit(SpeechAudio(turn_id, pcm[i : i + self.chunk_bytes]))
            end = start + len(pcm) / 2 / OUTPUT_RATE


async def _sleep_until(when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
