"""When speculative recognition begins: at once on a free machine, 96 ms later while replies
use the compute, and never later than the end of the turn (``runtime/voice_in.py``)."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np

from openlive.models.scheduler import INTERIM, RECOGNITION, REPLY, Scheduler
from openlive.models.speech.asr import AsrBackend
from openlive.models.speech.vad import VadModel
from openlive.runtime.tasks import TaskOwner
from openlive.runtime.voice_in import BUSY_SPECULATION_DELAY_S, VoiceIn
from openlive.session import EngineEvent, UserTranscript


class StubAsr(AsrBackend):
    """A stub recognizer: notes when it was asked, answers at once."""

    name = "stub"

    def __init__(self) -> None:
        self.asked: list[float] = []

    def transcribe(self, samples: object, language: str | None = None) -> str:
        self.asked.append(time.monotonic())
        return "what is two plus two?"


async def failed(stage: str, exc: BaseException) -> None:
    raise AssertionError(f"{stage} failed: {exc!r}")


async def no_vad() -> VadModel:
    raise AssertionError("not used")


def voice_in(scheduler: Scheduler, asr: StubAsr, events: list[EngineEvent]) -> VoiceIn:
    async def emit(event: EngineEvent) -> None:
        events.append(event)

    stage = VoiceIn(
        emit=emit,
        tasks=TaskOwner(failed),
        vad=no_vad,
        asr=asr,
        scheduler=scheduler,
        language="en",
        prefix_ms=300,
    )
    stage.begin(1)
    stage._utterance = [np.full(16000, 0.1, np.float32)]  # a second of "speech"
    return stage


async def hold(scheduler: Scheduler, priority: int) -> tuple[asyncio.Task[object], threading.Event]:
    gate = threading.Event()
    task: asyncio.Task[object] = asyncio.create_task(
        scheduler.run(lambda: gate.wait(5), priority=priority)
    )
    await asyncio.sleep(0.05)
    return task, gate


async def test_replying_means_a_reply_holds_or_waits_for_the_compute() -> None:
    scheduler = Scheduler(threads=1)
    assert not scheduler.replying
    task, gate = await hold(scheduler, INTERIM)
    assert not scheduler.replying  # an interim transcript is not a reply
    waiting = asyncio.create_task(scheduler.run(lambda: None, priority=REPLY))
    await asyncio.sleep(0.02)
    assert scheduler.replying  # a reply waits
    gate.set()
    await asyncio.gather(task, waiting)
    assert not scheduler.replying
    task, gate = await hold(scheduler, REPLY)
    assert scheduler.replying  # a reply holds it
    gate.set()
    await task
    await scheduler.shutdown()


async def test_speculation_begins_at_once_on_a_free_machine() -> None:
    scheduler, asr, events = Scheduler(threads=1), StubAsr(), []
    stage = voice_in(scheduler, asr, events)
    asked = time.monotonic()
    stage.speculate(1)
    await asyncio.sleep(0.05)
    assert len(asr.asked) == 1 and asr.asked[0] - asked < BUSY_SPECULATION_DELAY_S
    assert events == [UserTranscript(1, "what is two plus two?", final=False, speculative=True)]
    await stage.tasks.close(1.0)
    await scheduler.shutdown()


async def test_speculation_waits_while_replies_use_the_compute() -> None:
    scheduler, asr, events = Scheduler(threads=1), StubAsr(), []
    stage = voice_in(scheduler, asr, events)
    task, gate = await hold(scheduler, REPLY)  # another session's reply is being written
    asked = time.monotonic()
    stage.speculate(1)
    await asyncio.sleep(0.02)
    gate.set()  # the reply goes on giving the slot up; the recognition still waits its time
    await task
    await asyncio.sleep(BUSY_SPECULATION_DELAY_S + 0.1)
    assert len(asr.asked) == 1 and asr.asked[0] - asked >= BUSY_SPECULATION_DELAY_S
    await stage.tasks.close(1.0)
    await scheduler.shutdown()


async def test_a_turn_that_ends_while_the_speculation_waits_is_recognized_at_once() -> None:
    scheduler, asr, events = Scheduler(threads=1), StubAsr(), []
    stage = voice_in(scheduler, asr, events)
    task, gate = await hold(scheduler, RECOGNITION)
    waiting = asyncio.create_task(scheduler.run(lambda: None, priority=REPLY))
    await asyncio.sleep(0.02)
    stage.speculate(1)  # a reply waits: the speculation waits too
    gate.set()
    await asyncio.gather(task, waiting)
    ended = time.monotonic()
    stage.end(1, reuse_speculation=True)
    await asyncio.sleep(0.05)
    assert len(asr.asked) == 1 and asr.asked[0] - ended < BUSY_SPECULATION_DELAY_S
    final = [e for e in events if isinstance(e, UserTranscript) and e.final]
    assert [e.text for e in final] == ["what is two plus two?"]
    await asyncio.sleep(BUSY_SPECULATION_DELAY_S)
    assert len(asr.asked) == 1  # the waiting one never ran
    await stage.tasks.close(1.0)
    await scheduler.shutdown()
