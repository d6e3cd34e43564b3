"""A long job streaming on the compute slot gives it up between steps when more urgent work
waits, and goes on where it stopped (``Scheduler.stream`` with ``PAUSE``)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from openlive.models.scheduler import (
    PAUSE,
    RECOGNITION,
    REPLY,
    URGENT_SLACK,
    YIELD_SLACK,
    Scheduler,
)


def steps(
    scheduler: Scheduler, log: list[str], n: int, closed: list[str], key: str | None = None
) -> Iterator[object]:
    since = time.monotonic()
    try:
        for i in range(n):
            time.sleep(0.01)
            log.append(f"long {i}")
            yield i
            if scheduler.preempt_wanted(since, key):
                yield PAUSE
                since = time.monotonic()
    finally:
        closed.append(threading.current_thread().name)


async def test_urgent_work_runs_between_steps_and_the_stream_resumes() -> None:
    scheduler = Scheduler(threads=1)
    log: list[str] = []
    closed: list[str] = []
    got: list[object] = []

    async def consume() -> None:
        async for item in scheduler.stream(lambda stop: steps(scheduler, log, 30, closed)):
            got.append(item)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.08)
    await scheduler.run(lambda: log.append("recognition"), priority=RECOGNITION)
    await scheduler.run(lambda: log.append("first tokens"), priority=REPLY)
    await task
    assert got == list(range(30))  # nothing lost or repeated across the pauses
    at = log.index("recognition")
    assert 0 < at < 29 and log[at + 1].startswith("long")  # it ran mid-stream
    assert log.index("first tokens") < log.index("long 29")
    assert closed and closed[0].startswith("openlive-compute")
    await scheduler.shutdown()


async def test_a_stream_closed_while_paused_ends_on_a_compute_thread() -> None:
    scheduler = Scheduler(threads=1)
    log: list[str] = []
    closed: list[str] = []
    gate = threading.Event()

    async def consume() -> None:
        async for _ in scheduler.stream(lambda stop: steps(scheduler, log, 1000, closed)):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    # a blocking recognition job takes the slot; the stream waits, paused
    blocker = asyncio.create_task(scheduler.run(lambda: gate.wait(5), priority=RECOGNITION))
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    gate.set()
    await blocker
    await scheduler.shutdown()  # waits for the paused producer's close
    assert closed == [closed[0]] and closed[0].startswith("openlive-compute")
    assert len(log) < 1000


async def test_long_streams_take_turns() -> None:
    scheduler = Scheduler(threads=1)
    log: list[str] = []
    closed: list[str] = []

    def named(name: str, n: int) -> Iterator[object]:
        since = time.monotonic()
        for i in range(n):
            time.sleep(0.02)
            log.append(name)
            yield i
            if i >= 2 and scheduler.preempt_wanted(since):
                yield PAUSE
                since = time.monotonic()
        closed.append(name)

    async def consume(name: str) -> None:
        async for _ in scheduler.stream(lambda stop: named(name, 40)):
            pass

    await asyncio.gather(consume("a"), consume("b"))
    switches = sum(1 for x, y in itertools.pairwise(log) if x != y)
    assert switches >= 3  # 0.8 s each, 0.3 s slices: they alternate
    assert sorted(closed) == ["a", "b"]
    await scheduler.shutdown()


@pytest.mark.parametrize(("ahead", "keeps"), [(YIELD_SLACK - 1.0, True), (YIELD_SLACK + 1, False)])
async def test_a_reply_whose_audio_runs_low_keeps_the_slot(ahead: float, keeps: bool) -> None:
    """With less speech ahead of its client than YIELD_SLACK, a spoken reply does not give the
    slot up even to recognition; with more it does, as before."""
    scheduler = Scheduler(threads=1)
    scheduler.set_playback("s", lambda: ahead)
    log: list[str] = []
    closed: list[str] = []

    async def consume() -> None:
        async for _ in scheduler.stream(
            lambda stop: steps(scheduler, log, 30, closed, "s"), key="s"
        ):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.08)
    await scheduler.run(lambda: log.append("recognition"), priority=RECOGNITION)
    await task
    after_all = log.index("recognition") > log.index("long 29")
    assert after_all is keeps
    await scheduler.shutdown()


@pytest.mark.parametrize(("playing", "first"), [(True, "long"), (False, "recognition")])
async def test_a_paused_reply_goes_first_once_its_audio_runs_low(playing: bool, first: str) -> None:
    """A spoken reply that gave the slot up waits behind recognition and first tokens, until
    its client's speech ahead falls to URGENT_SLACK: then it goes before them. (A reply with
    no playback, a text reply, waits its turn.)"""
    scheduler = Scheduler(threads=1)
    runs_out = time.monotonic() + YIELD_SLACK + 0.1  # it yields at once, then plays on
    if playing:
        scheduler.set_playback("s", lambda: runs_out - time.monotonic())
    log: list[str] = []
    closed: list[str] = []
    gate = threading.Event()

    async def consume() -> None:
        async for _ in scheduler.stream(
            lambda stop: steps(scheduler, log, 20, closed, "s"), key="s"
        ):
            pass

    def block() -> None:
        log.append("first tokens")
        gate.wait(5)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.03)
    blocker = asyncio.create_task(scheduler.run(block, priority=REPLY))
    await asyncio.sleep(0.05)  # the stream has paused and waits behind the blocker
    recognition = asyncio.create_task(
        scheduler.run(lambda: log.append("recognition"), priority=RECOGNITION)
    )
    # past the moment the reply's speech ahead falls to URGENT_SLACK
    await asyncio.sleep(YIELD_SLACK - URGENT_SLACK + 0.2)
    gate.set()
    await asyncio.gather(blocker, recognition, task)
    after = log[log.index("first tokens") + 1]
    assert after.startswith(first)
    await scheduler.shutdown()


def test_playback_is_dropped_only_by_its_owner() -> None:
    scheduler = Scheduler(threads=1)
    old, new = (lambda: 1.0), (lambda: 2.0)
    scheduler.set_playback("s", old)
    scheduler.set_playback("s", new)  # a resumed session's runtime took the key over
    scheduler.drop_playback("s", old)
    assert scheduler.slack("s") == 2.0
    scheduler.drop_playback("s", new)
    assert scheduler.slack("s") == float("inf")
