"""The input side of voice, per session: resample, VAD, utterance buffers, recognition.

The session core makes every decision (where a chunk is kept, when an utterance begins and
ends, when to recognize); this stage runs the models off the event loop and holds the audio.
Memory is bounded: the detection queue holds ``QUEUE_CHUNKS`` chunks (when it is full the
session's reader waits, so TCP backpressure reaches the client), the padding buffer
``prefixPaddingMs``, an utterance at most ``MAX_UTTERANCE_S`` seconds (the core cuts it).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Awaitable, Callable

import numpy as np

from ..audio.pcm import SPEECH_RATE, Floats, StreamResampler, pcm16_to_float
from ..models.scheduler import INTERIM, RECOGNITION, Scheduler
from ..models.speech.asr import AsrBackend
from ..models.speech.turn import SmartTurn
from ..models.speech.vad import VadModel, VadStream
from ..session import (
    AudioTarget,
    EngineEvent,
    SpeechFlushed,
    TurnScore,
    UserTranscript,
    VoiceActivity,
)
from ..session.listening import MAX_UTTERANCE_S
from .tasks import TaskOwner

__all__ = ["BUSY_SPECULATION_DELAY_S", "QUEUE_CHUNKS", "VoiceIn"]

QUEUE_CHUNKS = 32
"""Audio chunks waiting for detection (3.2 s of 100 ms chunks)."""
BUSY_SPECULATION_DELAY_S = 0.096
"""When replies hold or wait for the compute, speculative recognition (asked for 64 ms into a
silence) waits this much longer, to 160 ms: a guess taken at a word gap, which the user often
talks through, would take the compute from replies being spoken."""


class _Flush:
    pass


class VoiceIn:
    def __init__(
        self,
        *,
        emit: Callable[[EngineEvent], Awaitable[None]],
        tasks: TaskOwner,
        vad: Callable[[], Awaitable[VadModel]],
        asr: AsrBackend | None,
        scheduler: Scheduler,
        language: str | None,
        prefix_ms: int,
        all_input: bool = False,
        turn: Callable[[], Awaitable[SmartTurn | None]] | None = None,
    ) -> None:
        self.emit = emit
        self._turn_model = turn
        self.tasks = tasks
        self._vad_model = vad
        self.asr = asr
        """``None``: recognition is off on this server (every transcript is empty)."""
        self.scheduler = scheduler
        self.language = language
        self.keep_prefix_s = MAX_UTTERANCE_S / 2 if all_input else prefix_ms / 1000
        self._queue: asyncio.Queue[Floats | _Flush] = asyncio.Queue(QUEUE_CHUNKS)
        self._worker: asyncio.Task[None] | None = None
        self._resamplers: dict[int, StreamResampler] = {}
        self._chunk: Floats = np.zeros(0, np.float32)
        self._prefix: deque[Floats] = deque()
        self._prefix_samples = 0
        self._utterance: list[Floats] = []
        self._utterance_id = 0
        self._speculation: asyncio.Task[str] | None = None
        self._speculation_waits = False
        """The speculation has not begun recognizing yet (it waits for the compute to calm)."""
        self._partial: asyncio.Task[None] | None = None
        self._in_order = asyncio.Lock()
        self._shut = False
        self.stats = {"frames": 0, "utterances": 0}

    # ---- audio in ----

    @property
    def backlog(self) -> int:
        """Audio chunks awaiting voice activity detection."""
        return self._queue.qsize()

    def shut(self) -> None:
        """The session is closing: take no more audio, and free the room anyone waits for."""
        self._shut = True
        while not self._queue.empty():
            self._queue.get_nowait()

    async def push(self, pcm: bytes, rate: int, detect: bool) -> None:
        if self._shut:
            return
        samples = pcm16_to_float(pcm)
        if rate != SPEECH_RATE:
            resampler = self._resamplers.get(rate)
            if resampler is None:
                resampler = self._resamplers[rate] = StreamResampler(rate, SPEECH_RATE)
            samples = resampler.process(samples)
        if detect:
            self._ensure_worker()
            await self._queue.put(samples)
        else:
            self._chunk = samples

    async def flush(self) -> None:
        if self._shut:
            return
        self._ensure_worker()
        await self._queue.put(_Flush())

    def _ensure_worker(self) -> None:
        if self._worker is None:
            self._worker = self.tasks.spawn(self._detect(), "voice activity detection")

    async def _detect(self) -> None:
        # batched with the other sessions' frames; closing frees the session's batch slot
        vad: VadStream = (await self._vad_model()).open(self.scheduler)
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Flush):
                    await self.emit(SpeechFlushed())
                    continue
                probabilities = await vad.probabilities(item)
                self.stats["frames"] += len(probabilities)
                self._chunk = item
                await self.emit(VoiceActivity(tuple(probabilities)))
        finally:
            vad.close()

    # ---- the core's decisions ----

    def store(self, target: AudioTarget) -> None:
        chunk, self._chunk = self._chunk, np.zeros(0, np.float32)
        if not chunk.size:
            return
        if target == "utterance":
            self._utterance.append(chunk)
            return
        self._prefix.append(chunk)
        self._prefix_samples += chunk.size
        limit = int(self.keep_prefix_s * SPEECH_RATE) + chunk.size
        while len(self._prefix) > 1 and self._prefix_samples > limit:
            self._prefix_samples -= self._prefix.popleft().size

    def begin(self, utterance: int) -> None:
        self._cancel(self._partial, self._speculation)
        self._partial = self._speculation = None
        self._utterance_id = utterance
        self._utterance = list(self._prefix)
        self._prefix.clear()
        self._prefix_samples = 0

    def end(self, utterance: int, reuse_speculation: bool) -> float:
        """Recognize the utterance (beside detection); returns its length in seconds."""
        audio = self._audio()
        self._utterance = []
        self.stats["utterances"] += 1
        self._cancel(self._partial)
        self._partial = None
        speculation, self._speculation = self._speculation, None
        if not reuse_speculation or self._speculation_waits:
            self._cancel(speculation)  # (one still waiting: recognize now instead)
            speculation = None
        self._speculation_waits = False
        # recognized beside detection, so VAD keeps up with new speech (barge-in) meanwhile
        self.tasks.spawn(self._recognize(utterance, audio, speculation), "speech recognition")
        return audio.size / SPEECH_RATE

    def speculate(self, utterance: int) -> None:
        self._cancel(self._speculation)
        audio = self._audio()
        delay = BUSY_SPECULATION_DELAY_S if self.scheduler.replying else 0.0
        self._speculation_waits = delay > 0
        self._speculation = self.tasks.spawn(
            self._speculate(utterance, audio, delay), "speech recognition"
        )

    async def _speculate(self, utterance: int, audio: Floats, delay: float) -> str:
        if delay:
            await asyncio.sleep(delay)
            self._speculation_waits = False
        return await self._interim(utterance, audio, speculative=True)

    def score(self, utterance: int, last_voice: int) -> None:
        """Ask the end-of-turn model about the utterance so far (beside detection)."""
        audio = self._audio()
        self.tasks.spawn(self._score(utterance, last_voice, audio), "end-of-turn model")

    async def _score(self, utterance: int, last_voice: int, audio: Floats) -> None:
        model = await self._turn_model() if self._turn_model is not None else None
        if model is None:
            await self.emit(TurnScore(utterance, last_voice, -1.0))
            return
        probability = await self.scheduler.run(
            functools.partial(model.probability, audio), compute=False
        )
        await self.emit(TurnScore(utterance, last_voice, probability))

    @property
    def speculating(self) -> bool:
        """A recognition taken in a silence is waiting or running."""
        return self._speculation is not None and not self._speculation.done()

    def cancel_speculation(self) -> None:
        self._cancel(self._speculation)
        self._speculation = None
        self._speculation_waits = False

    def partial(self, utterance: int) -> None:
        if self._partial is not None and not self._partial.done():
            return
        audio = self._audio()

        async def run() -> None:
            await self._interim(utterance, audio)

        self._partial = self.tasks.spawn(run(), "speech recognition")

    # ---- recognition ----

    def _audio(self) -> Floats:
        return np.concatenate(self._utterance) if self._utterance else np.zeros(0, np.float32)

    async def _transcribe(self, audio: Floats, priority: int = RECOGNITION) -> str:
        asr = self.asr
        if asr is None:
            return ""
        return await self.scheduler.run(
            lambda: asr.transcribe(audio, self.language), priority=priority
        )

    async def _interim(self, utterance: int, audio: Floats, speculative: bool = False) -> str:
        # while the user is still speaking the transcript is a nicety (interim transcription,
        # reading the prompt ahead): it waits behind replies; the one taken in a silence that
        # may end the turn is what the reply will wait for
        text = await self._transcribe(audio, RECOGNITION if speculative else INTERIM)
        await self.emit(UserTranscript(utterance, text, final=False, speculative=speculative))
        return text

    async def _recognize(
        self, utterance: int, audio: Floats, speculation: asyncio.Task[str] | None
    ) -> None:
        async with self._in_order:  # one at a time: transcripts reach the core in order
            started = time.monotonic()
            if speculation is not None:
                self.stats["speculated"] = self.stats.get("speculated", 0) + 1
                text = await speculation or ""
            else:
                text = await self._transcribe(audio)
            await self.emit(UserTranscript(utterance, text, True, time.monotonic() - started))

    @staticmethod
    def _cancel(*tasks: asyncio.Task[str] | asyncio.Task[None] | None) -> None:
        for task in tasks:
            if task is not None:
                task.cancel()
