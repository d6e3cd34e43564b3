"""How much speech a client has ahead of it (``VoiceOut.slack``), which the scheduler reads to
keep a spoken reply from falling silent mid-sentence."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np

from openlive.audio.pcm import OUTPUT_RATE
from openlive.models.scheduler import Scheduler
from openlive.models.speech.tts import TtsBackend
from openlive.runtime.tasks import TaskOwner
from openlive.runtime.voice_out import CHARS_PER_SECOND, VoiceOut
from openlive.session import EngineEvent, SpeechReady


class StubTts(TtsBackend):
    """A stub, not a voice: a second of silence for every 10 characters, after a short wait."""

    def synthesize(self, text: str, voice: str | None = None) -> np.ndarray:
        time.sleep(0.05)
        return np.zeros(int(len(text) / 10 * OUTPUT_RATE), np.float32)


async def test_slack_counts_text_to_speak_and_audio_not_yet_played() -> None:
    events: list[EngineEvent] = []
    scheduler = Scheduler(threads=1)

    async def failed(stage: str, exc: BaseException) -> None:
        raise AssertionError(stage) from exc

    async def emit(event: EngineEvent) -> None:
        events.append(event)

    tasks = TaskOwner(failed)
    out = VoiceOut(tts=StubTts(), scheduler=scheduler, emit=emit, tasks=tasks)
    assert out.slack() == math.inf  # nothing spoken: no deadline
    text = "x" * 32
    await out.speak(1, text)
    assert math.isclose(out.slack(), len(text) / CHARS_PER_SECOND)  # written, not synthesized
    while not any(isinstance(e, SpeechReady) for e in events):
        await asyncio.sleep(0.01)
    start = time.monotonic()
    await out.play(1, start)  # 3.2 s of audio from now on the playback clock
    assert 3.0 < out.slack() <= 3.2
    await asyncio.sleep(0.2)
    assert 2.8 < out.slack() <= 3.0  # it drains as the client plays it
    out.stop(1)
    assert out.slack() == math.inf  # an interrupted reply has no deadline
    await tasks.close()
    await scheduler.shutdown()
