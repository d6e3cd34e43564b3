"""The input side of voice, per session: resample → VAD → endpointing → speech recognition.

Everything heavy runs off the event loop: VAD on the light executor (it costs ~0.1 ms a
frame), recognition on the scheduler's compute slot. Memory is constant: the utterance buffer
holds at most ``MAX_UTTERANCE_S`` seconds (a longer utterance is cut and recognized), and the
pre-speech buffer only ``prefixPaddingMs``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

import numpy as np

from ..audio.pcm import SPEECH_RATE, Floats, StreamResampler, pcm16_to_float
from ..errors import EngineError
from ..session.activity import ActivityChange, Endpointer, EndpointerSettings
from ..session.events import EngineEvent, UserSpeechEnded, UserSpeechStarted, UserTranscript
from .asr import AsrBackend
from .scheduler import Scheduler
from .vad import SileroVad, VadModel

__all__ = ["VoiceInput"]

log = logging.getLogger("openlive.voice")
MAX_UTTERANCE_S = 28.0
PARTIAL_EVERY_S = 1.0
SPECULATE_AFTER_MS = 160
"""Recognition starts this long into a silence, before the turn is committed: when the
silence holds for ``silenceDurationMs`` the finished transcript is used (the only audio since
is silence); when speech resumes it is thrown away."""


class VoiceInput:
    def __init__(
        self,
        *,
        vad: Callable[[], Awaitable[VadModel]],
        asr: AsrBackend,
        scheduler: Scheduler,
        emit: Callable[[EngineEvent], None],
        settings: EndpointerSettings,
        automatic: bool = True,
        language: str | None = None,
        partials: bool = False,
        all_input: bool = False,
        fail: Callable[[str], None] | None = None,
    ) -> None:
        self._vad_model = vad
        self.vad: SileroVad | None = None
        self.fail = fail
        self.asr = asr
        self.scheduler = scheduler
        self.emit = emit
        self.endpointer = Endpointer(settings)
        self.automatic = automatic
        self.language = language
        self.partials = partials
        self.all_input = all_input
        """turnCoverage TURN_INCLUDES_ALL_INPUT: the turn also gets the audio before speech."""
        self._resamplers: dict[int, StreamResampler] = {}
        self._queue: asyncio.Queue[tuple[str, Floats | None]] = asyncio.Queue()
        self._prefix: deque[Floats] = deque()
        self._prefix_samples = 0
        self._recognizing = asyncio.Lock()
        self._utterance: list[Floats] = []
        self._utterance_samples = 0
        self._collecting = False
        self._partial_at = 0
        self._partial_task: asyncio.Task[None] | None = None
        self._speculation: asyncio.Task[str] | None = None
        self._speculated_voice = -1
        self._task: asyncio.Task[None] | None = None
        self.stats = {"frames": 0, "utterances": 0}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="voice-input")

    async def close(self) -> None:
        for task in (self._task, self._partial_task):
            if task is not None:
                task.cancel()

    # ---- inputs (event loop, cheap) ----

    def push(self, pcm: bytes, rate: int) -> None:
        samples = pcm16_to_float(pcm)
        if rate != SPEECH_RATE:
            resampler = self._resamplers.get(rate)
            if resampler is None:
                resampler = self._resamplers[rate] = StreamResampler(rate, SPEECH_RATE)
            samples = resampler.process(samples)
        self._queue.put_nowait(("audio", samples))

    def open_activity(self) -> None:
        """Manual mode: ``activityStart``."""
        self._queue.put_nowait(("open", None))

    def close_activity(self) -> None:
        """Manual mode: ``activityEnd``; or ``audioStreamEnd``: end what is being said."""
        self._queue.put_nowait(("close", None))

    # ---- worker ----

    async def _run(self) -> None:
        try:
            self.vad = (await self._vad_model()).stream()
        except EngineError as exc:
            self._failed(str(exc))
            return
        while True:
            kind, samples = await self._queue.get()
            try:
                if kind == "audio" and samples is not None:
                    await self._audio(samples)
                elif kind == "open":
                    self._begin(time.monotonic())
                elif kind == "close" and self._collecting:
                    self.endpointer.force_end()
                    await self._end(time.monotonic())
            except EngineError as exc:
                self._failed(f"voice input failed: {exc}")

    def _failed(self, reason: str) -> None:
        log.warning("voice input: %s", reason)
        if self.fail is not None:
            self.fail(reason)

    async def _audio(self, samples: Floats) -> None:
        if not self.automatic:
            if self._collecting:
                self._append(samples)
            return
        vad = self.vad
        assert vad is not None
        probs = await self.scheduler.run_light(lambda: vad.probabilities(samples))
        self.stats["frames"] += len(probs)
        ended = False
        for prob in probs:
            change = self.endpointer.push(prob)
            if change is ActivityChange.STARTED:
                self._begin(time.monotonic())
            elif change is ActivityChange.ENDED:
                ended = True
                break
        if self._collecting:
            self._append(samples)
        else:
            self._keep_prefix(samples)
        if ended:
            await self._end(time.monotonic())
        elif self._collecting:
            self._maybe_speculate()
            await self._maybe_partial()

    def _maybe_speculate(self) -> None:
        endpointer = self.endpointer
        if self._speculation is not None and endpointer.last_voice != self._speculated_voice:
            self._speculation.cancel()  # the user went on speaking
            self._speculation = None
        if self._speculation is not None:
            return
        if endpointer.silence_frames() * 32 < SPECULATE_AFTER_MS:
            return
        if endpointer.settings.silence_ms <= SPECULATE_AFTER_MS:
            return
        audio = np.concatenate(self._utterance)
        self._speculated_voice = endpointer.last_voice
        self._speculation = asyncio.get_running_loop().create_task(
            self.scheduler.run(lambda: self.asr.transcribe(audio, self.language))
        )
        self._speculation.add_done_callback(self._speculated)

    def _speculated(self, task: asyncio.Task[str]) -> None:
        """A speculative transcript that is ready while the silence is still being timed goes
        out as a partial one, so the LLM reads the prompt before the turn is committed."""
        if task.cancelled() or task.exception() is not None or task is not self._speculation:
            return
        if self._collecting and task.result():
            self.emit(UserTranscript(task.result(), False, 0.0))

    def _keep_prefix(self, samples: Floats) -> None:
        self._prefix.append(samples)
        self._prefix_samples += samples.size
        keep_ms = (
            MAX_UTTERANCE_S * 500 if self.all_input else self.endpointer.settings.prefix_padding_ms
        )
        limit = int(keep_ms * SPEECH_RATE // 1000) + samples.size
        while len(self._prefix) > 1 and self._prefix_samples > limit:
            self._prefix_samples -= self._prefix.popleft().size

    def _begin(self, now: float) -> None:
        self._collecting = True
        self._utterance = list(self._prefix)
        self._utterance_samples = sum(c.size for c in self._utterance)
        self._prefix.clear()
        self._prefix_samples = 0
        self._partial_at = self._utterance_samples
        self.emit(UserSpeechStarted(now))

    def _append(self, samples: Floats) -> None:
        self._utterance.append(samples)
        self._utterance_samples += samples.size
        if self._utterance_samples > MAX_UTTERANCE_S * SPEECH_RATE:
            self.endpointer.force_end()
            asyncio.get_running_loop().create_task(self._end(time.monotonic()))

    async def _end(self, now: float) -> None:
        if not self._collecting:
            return
        self._collecting = False
        audio = np.concatenate(self._utterance) if self._utterance else np.zeros(0, np.float32)
        self._utterance = []
        self._utterance_samples = 0
        if self._partial_task is not None:
            self._partial_task.cancel()
            self._partial_task = None
        silence = self.endpointer.settings.silence_ms / 1000 if self.automatic else 0.0
        self.emit(UserSpeechEnded(now, silence, audio.size / SPEECH_RATE))
        self.stats["utterances"] += 1
        speculation = self._speculation
        if speculation is not None and self.endpointer.last_voice != self._speculated_voice:
            speculation.cancel()
            speculation = None
        self._speculation = None
        # recognized beside the worker, so VAD keeps up with new speech (barge-in) meanwhile
        asyncio.get_running_loop().create_task(self._recognize(audio, speculation))

    async def _recognize(self, audio: Floats, speculation: asyncio.Task[str] | None) -> None:
        async with self._recognizing:
            started = time.monotonic()
            try:
                if speculation is not None:
                    self.stats["speculated"] = self.stats.get("speculated", 0) + 1
                    text = await speculation
                else:
                    text = await self.scheduler.run(
                        lambda: self.asr.transcribe(audio, self.language)
                    )
            except asyncio.CancelledError:
                return
            except EngineError as exc:
                # the user's words are lost: say so rather than answer nothing
                self._failed(f"speech recognition failed: {exc}")
                return
            self.emit(UserTranscript(text, True, time.monotonic() - started))

    async def _maybe_partial(self) -> None:
        if not self.partials or (self._partial_task and not self._partial_task.done()):
            return
        if self.endpointer.silence_frames() > 2:
            return  # the user may be done: keep the compute slot free for the final pass
        if self._utterance_samples - self._partial_at < PARTIAL_EVERY_S * SPEECH_RATE:
            return
        self._partial_at = self._utterance_samples
        audio = np.concatenate(self._utterance)

        async def partial() -> None:
            text = await self.scheduler.run(lambda: self.asr.transcribe(audio, self.language))
            if self._collecting and text:
                self.emit(UserTranscript(text, False, 0.0))

        self._partial_task = asyncio.get_running_loop().create_task(partial())
