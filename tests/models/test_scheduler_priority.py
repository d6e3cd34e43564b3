"""The compute slot goes to waiting jobs by priority, then in arrival order."""

from __future__ import annotations

import asyncio
import threading
import time

from openlive.models.scheduler import PREFILL, RECOGNITION, REPLY, Scheduler


async def test_waiting_jobs_get_the_slot_by_priority() -> None:
    scheduler = Scheduler(threads=1)
    gate = threading.Event()
    order: list[str] = []

    def blocker() -> None:
        gate.wait(5)

    def job(name: str) -> None:
        order.append(name)

    first = asyncio.create_task(scheduler.run(blocker))
    await asyncio.sleep(0.05)  # it holds the slot
    waiting = [
        asyncio.create_task(scheduler.run(lambda: job("prefill"), priority=PREFILL)),
        asyncio.create_task(scheduler.run(lambda: job("reply 1"), priority=REPLY)),
        asyncio.create_task(scheduler.run(lambda: job("recognition"), priority=RECOGNITION)),
        asyncio.create_task(scheduler.run(lambda: job("reply 2"), priority=REPLY)),
    ]
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(first, *waiting)
    assert order == ["recognition", "reply 1", "reply 2", "prefill"]
    await scheduler.shutdown()


async def test_a_waiter_that_gives_up_does_not_keep_the_slot() -> None:
    scheduler = Scheduler(threads=1)
    gate = threading.Event()
    first = asyncio.create_task(scheduler.run(lambda: gate.wait(5)))
    await asyncio.sleep(0.05)
    quitter = asyncio.create_task(scheduler.run(lambda: None, priority=RECOGNITION))
    await asyncio.sleep(0.02)
    quitter.cancel()
    gate.set()
    await first
    # the slot is free again: a later job runs at once
    assert await asyncio.wait_for(scheduler.run(lambda: 42), 5) == 42
    await scheduler.shutdown()


async def test_a_job_cancelled_while_waiting_never_runs() -> None:
    scheduler = Scheduler(threads=1)
    gate = threading.Event()
    ran: list[str] = []
    blocker = asyncio.create_task(scheduler.run(lambda: gate.wait(5), priority=REPLY))
    await asyncio.sleep(0.02)
    waiting = asyncio.create_task(scheduler.run(lambda: ran.append("prefill"), priority=PREFILL))
    await asyncio.sleep(0.02)
    waiting.cancel()
    gate.set()
    await asyncio.gather(blocker, waiting, return_exceptions=True)
    await scheduler.run(lambda: ran.append("after"))
    assert ran == ["after"]
    await scheduler.shutdown()


async def test_a_job_cancelled_while_running_keeps_the_slot_to_its_end() -> None:
    """Nothing else starts on the compute while a cancelled job still runs there."""
    scheduler = Scheduler(threads=1)
    log: list[str] = []

    def long() -> None:
        time.sleep(0.2)
        log.append("long ended")

    running = asyncio.create_task(scheduler.run(long, priority=PREFILL))
    await asyncio.sleep(0.05)
    running.cancel()
    started = time.monotonic()
    await asyncio.gather(running, return_exceptions=True)
    assert log == ["long ended"] and time.monotonic() - started > 0.1  # waited for it
    assert running.cancelled()
    await scheduler.run(lambda: log.append("next"), priority=RECOGNITION)
    assert log == ["long ended", "next"]
    await scheduler.shutdown()


async def test_usage_counts_the_time_held_and_waited_by_kind() -> None:
    scheduler = Scheduler(threads=1)
    gate = threading.Event()
    blocker = asyncio.create_task(scheduler.run(lambda: gate.wait(5), priority=REPLY))
    await asyncio.sleep(0.02)
    waiting = asyncio.create_task(scheduler.run(lambda: time.sleep(0.05), priority=RECOGNITION))
    await asyncio.sleep(0.2)
    gate.set()
    await asyncio.gather(blocker, waiting)
    await scheduler.run_side(lambda: time.sleep(0.05))
    usage = scheduler.usage()
    assert usage["reply"][0] >= 0.2 and usage["reply"][1] < 0.05
    assert 0.05 <= usage["recognition"][0] < 0.2 and usage["recognition"][1] >= 0.15
    assert usage["synthesis"][0] >= 0.05
    assert usage["prefill"] == (0.0, 0.0)
    await scheduler.shutdown()
