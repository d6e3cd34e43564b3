"""A long job streaming on the compute slot gives it up between steps when more urgent work
waits, and goes on where it stopped (``Scheduler.stream`` with ``PAUSE``)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator

from openlive.models.scheduler import PAUSE, RECOGNITION, REPLY, Scheduler


def steps(scheduler: Scheduler, log: list[str], n: int, closed: list[str]) -> Iterator[object]:
    since = time.monotonic()
    try:
        for i in range(n):
            time.sleep(0.01)
            log.append(f"long {i}")
            yield i
            if scheduler.preempt_wanted(since):
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
