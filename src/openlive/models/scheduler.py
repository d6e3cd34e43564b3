"""One budget for all inference on this machine, and admission control for sessions.

Local model work runs on worker threads, never on the event loop. Compute-heavy jobs hold a
compute slot while they run (one by default: on a small CPU one job using every core beats two
fighting over them). Waiting jobs get the slot by priority, then in arrival order: speech
recognition (short, and what a spoken reply waits for) before replies, replies before reading a
prompt ahead of time. A long reply gives the slot up between tokens (see :meth:`Scheduler.stream`)
once its first tokens are out: to recognition and to other replies' first tokens at once, and
to other long replies in turns of :data:`SLICE_SECONDS`.

A spoken reply's deadline is its audio: the scheduler reads how many seconds of speech its
client still has ahead (:meth:`Scheduler.set_playback`). A reply with less than
:data:`YIELD_SLACK` ahead keeps the slot; one that gave it up and waits goes before everything
(:data:`URGENT`) once its client has less than :data:`URGENT_SLACK` left, so a reply already
playing does not fall silent mid-sentence while other sessions' guesses and first tokens run.
Sessions beyond ``max_sessions`` are refused with a retry hint instead of degrading everyone.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

from ..errors import Overloaded

__all__ = [
    "CONTINUATION",
    "INTERIM",
    "PAUSE",
    "PREFILL",
    "PRIORITY_NAMES",
    "RECOGNITION",
    "REPLY",
    "SLICE_SECONDS",
    "URGENT",
    "URGENT_SLACK",
    "YIELD_SLACK",
    "Scheduler",
]

URGENT = -1
RECOGNITION = 0
REPLY = 1
CONTINUATION = 2
INTERIM = 3
PREFILL = 4
"""Compute priorities (lower first): the rest of a spoken reply whose audio is about to run
out, speech recognition a reply waits for (the turn's, or the one taken in a silence), a
reply's first tokens, the rest of a reply that gave its slot up,
interim transcripts of speech still going on, reading a prompt ahead of time."""
SLICE_SECONDS = 0.3
"""How long a reply keeps the slot while another reply's continuation waits."""
YIELD_SLACK = 2.5
"""A spoken reply gives the slot up only with this many seconds of speech ahead of its client."""
URGENT_SLACK = 1.2
"""A spoken reply waiting for the slot goes first once its client has less speech ahead than
this: enough to cover a job already running (a recognition, another reply's first tokens)."""
PRIORITY_NAMES = {
    URGENT: "urgent",
    RECOGNITION: "recognition",
    REPLY: "reply",
    CONTINUATION: "continuation",
    INTERIM: "interim",
    PREFILL: "prefill",
}
"""How the priorities are named in :meth:`Scheduler.usage` and ``/metrics``."""
PAUSE: object = object()
"""Yielded by a :meth:`Scheduler.stream` producer to give the compute slot up; the producer is
resumed (on a compute thread) once the slot is its own again."""

T = TypeVar("T")
_DONE = object()
_PAUSED = object()


class Scheduler:
    """Owns the inference threads and the session count."""

    def __init__(
        self, threads: int | None = None, compute_slots: int = 1, max_sessions: int = 16
    ) -> None:
        self.threads = threads or os.cpu_count() or 2
        self.max_sessions = max_sessions
        # Compute runs on exactly ``compute_slots`` long-lived threads: llama.cpp keeps its
        # worker pool per calling thread, and a model that hops between threads pays for it
        # (measured: decode fell from ~31 to ~13 tokens/s on 2 cores).
        self._compute = ThreadPoolExecutor(
            max_workers=compute_slots, thread_name_prefix="openlive-compute"
        )
        self._aux = ThreadPoolExecutor(max_workers=2, thread_name_prefix="openlive-aux")
        # Light, latency-sensitive work (voice activity detection: ~0.1 ms a frame) gets a
        # thread of its own so it never waits behind a reply being generated.
        self._light = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openlive-light")
        self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openlive-side")
        self._side_lock = threading.Lock()
        self._side_jobs = 0
        self._side_idle = threading.Event()
        self._side_idle.set()
        self._side_s = [0.0, 0.0]  # run, waited (under _side_lock)
        self._slots: _PrioritySlots | None = None
        self._compute_slots = compute_slots
        self.preempt = os.environ.get("OPENLIVE_PREEMPT", "on") != "off"
        """Long replies give the slot up between tokens (``OPENLIVE_PREEMPT=off``: a reply
        holds it to its end, the earlier rule, kept as the benchmarks' baseline)."""
        self._sessions: set[str] = set()
        self._closing: set[asyncio.Future[None]] = set()
        self._playback: dict[str, Callable[[], float]] = {}

    def _slot(
        self, priority: int = REPLY, upgrade_in: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        if self._slots is None:
            self._slots = _PrioritySlots(self._compute_slots)
        return self._slots.hold(priority, upgrade_in)

    # ---- deadlines ----

    def set_playback(self, key: str, slack: Callable[[], float]) -> None:
        """Tell the scheduler how to read the seconds of speech session ``key``'s client has
        ahead of it (``slack``, safe to call from any thread; ``inf`` when nothing plays).
        Replies stream under the same key (:meth:`stream`)."""
        self._playback[key] = slack

    def drop_playback(self, key: str, slack: Callable[[], float]) -> None:
        """Forget ``slack`` (if it is still the one set for ``key``)."""
        if self._playback.get(key) == slack:
            del self._playback[key]

    def slack(self, key: str | None) -> float:
        """Seconds of speech ahead of session ``key``'s client (``inf``: none, or unknown)."""
        read = self._playback.get(key) if key is not None else None
        return read() if read is not None else float("inf")

    # ---- admission ----

    def admit(self, session_id: str) -> None:
        """Count a new session in, or raise :class:`Overloaded` (close 1011)."""
        if len(self._sessions) >= self.max_sessions:
            raise Overloaded(
                f"server at capacity ({self.max_sessions} sessions); retry in a few seconds"
            )
        self._sessions.add(session_id)

    def release(self, session_id: str) -> None:
        self._sessions.discard(session_id)

    @property
    def sessions(self) -> int:
        return len(self._sessions)

    # ---- work ----

    def usage(self) -> dict[str, tuple[float, float]]:
        """Seconds since start by kind of work: (ran, waited to run). The kinds are the
        compute priorities (:data:`PRIORITY_NAMES`; the time a job held the slot) and
        ``synthesis`` (run beside the slot)."""
        slots = self._slots
        out = {
            name: (slots.held_s[p], slots.waited_s[p]) if slots else (0.0, 0.0)
            for p, name in PRIORITY_NAMES.items()
        }
        with self._side_lock:
            out["synthesis"] = (self._side_s[0], self._side_s[1])
        return out

    async def run(self, fn: Callable[[], T], *, compute: bool = True, priority: int = REPLY) -> T:
        """Run ``fn`` on a worker thread (holding a compute slot when ``compute``). Cancelled
        while it waits for the slot, it never runs; while it runs, the cancellation takes
        effect when it ends."""
        loop = asyncio.get_running_loop()
        if not compute:
            return await loop.run_in_executor(self._aux, fn)
        async with self._slot(priority):
            job = loop.run_in_executor(self._compute, fn)
            try:
                return await asyncio.shield(job)
            except asyncio.CancelledError:
                # a job cannot be stopped once it runs: the slot stays taken until it ends,
                # so the next job does not start while this one still holds the cores
                await asyncio.wait({job})
                raise

    async def run_light(self, fn: Callable[[], T]) -> T:
        """Run a small job (well under a millisecond) on the light thread."""
        return await asyncio.get_running_loop().run_in_executor(self._light, fn)

    async def run_side(self, fn: Callable[[], T]) -> T:
        """Run a job beside the compute slot (speech synthesis, which must keep pace with
        playback while a reply is still being generated). While it runs, compute jobs that
        call :meth:`yield_to_side` between steps pause, so the real-time job gets the cores."""

        submitted = time.monotonic()

        def job() -> T:
            began = time.monotonic()
            with self._side_lock:
                self._side_jobs += 1
                self._side_idle.clear()
            try:
                return fn()
            finally:
                with self._side_lock:
                    self._side_jobs -= 1
                    if not self._side_jobs:
                        self._side_idle.set()
                    self._side_s[0] += time.monotonic() - began
                    self._side_s[1] += began - submitted

        return await asyncio.get_running_loop().run_in_executor(self._side, job)

    def yield_to_side(self, limit: float = 1.0) -> None:
        """Called by compute jobs between steps (tokens): wait while a side job runs."""
        self._side_idle.wait(timeout=limit)

    @property
    def busy(self) -> bool:
        """A compute job is running or waiting (background work may hold back)."""
        slots = self._slots
        return slots is not None and (slots.free == 0 or slots.best is not None)

    def wanted_before(self, priority: int) -> bool:
        """Called by a compute job between steps: does a job more urgent than ``priority``
        wait for the slot? (Work done ahead of need stops early for it.)"""
        slots = self._slots
        best = slots.best if slots is not None else None
        return best is not None and best < priority

    @property
    def replying(self) -> bool:
        """A reply holds the compute or waits for it (early guesses may hold back). Read on
        the event loop."""
        slots = self._slots
        return slots is not None and slots.wanted_at(URGENT, REPLY, CONTINUATION)

    def preempt_wanted(self, since: float, key: str | None = None) -> bool:
        """Called by a compute job between steps: should it give the slot up (yield
        :data:`PAUSE`)? Not while session ``key``'s client has less than :data:`YIELD_SLACK`
        of speech ahead. Otherwise yes when recognition, another reply's first tokens or a
        reply about to fall silent wait, or when another reply's continuation waits and this
        job has held the slot since ``since`` (``time.monotonic()``) for
        :data:`SLICE_SECONDS`. Safe off the event loop."""
        slots = self._slots
        best = slots.best if slots is not None and self.preempt else None
        if best is None or best > CONTINUATION or self.slack(key) < YIELD_SLACK:
            return False
        return best < CONTINUATION or time.monotonic() - since >= SLICE_SECONDS

    async def stream(
        self,
        produce: Callable[[threading.Event], Iterator[T]],
        priority: int = REPLY,
        key: str | None = None,
    ) -> AsyncGenerator[T, None]:
        """Run a producing generator on a compute thread, holding a compute slot, and yield
        its items on the event loop as they come. Closing the consumer sets the stop event the
        producer checks between items, and waits for it to return so the slot is really free.

        A producer that yields :data:`PAUSE` gives the slot up: it is queued again at
        :data:`CONTINUATION` priority and resumed where it stopped (it saves whatever state
        another job could disturb before pausing, and restores it after). A spoken reply
        (``key`` with a playback, :meth:`set_playback`) is raised to :data:`URGENT` while it
        waits, when its client's speech ahead falls to :data:`URGENT_SLACK`.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()
        items = produce(stop)

        def post(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        suspended = False

        def work() -> None:
            nonlocal suspended
            suspended = False
            try:
                while True:
                    try:
                        item = next(items)
                    except StopIteration:
                        break
                    if item is PAUSE and not stop.is_set():
                        suspended = True
                        post(_PAUSED)
                        return
                    if item is not PAUSE:
                        post(item)
                    if stop.is_set():
                        _close(items)  # here, while the slot is still held
                        break
            except BaseException as exc:  # handed to the consumer, re-raised there
                post(_Failure(exc))
            post(_DONE)

        paused = False
        future: asyncio.Future[None] | None = None
        try:
            while True:
                upgrade_in = self.slack(key) - URGENT_SLACK if paused else None
                async with self._slot(CONTINUATION if paused else priority, upgrade_in):
                    future = loop.run_in_executor(self._compute, work)
                    paused = False
                    try:
                        while True:
                            item = await queue.get()
                            if item is _DONE:
                                return
                            if item is _PAUSED:
                                paused = True
                                break
                            if isinstance(item, _Failure):
                                raise item.exc
                            yield item  # type: ignore[misc]
                    finally:
                        if not paused:
                            stop.set()
                        await asyncio.shield(future)
        finally:
            if suspended or (future is not None and not future.done()):
                # closed while waiting for the slot: the producer ends on a compute thread
                # (it takes the model's lock and restores its state: never on the event loop),
                # after whatever runs there now; the scheduler owns that job
                stop.set()
                closing = loop.run_in_executor(self._compute, _close, items)
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)

    async def shutdown(self) -> None:
        """Drop queued jobs and wait (off the event loop) for the running ones to end."""

        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

        def stop_all() -> None:
            for pool in (self._compute, self._aux, self._light, self._side):
                pool.shutdown(wait=True, cancel_futures=True)

        await asyncio.get_running_loop().run_in_executor(None, stop_all)


class _PrioritySlots:
    """``n`` slots; a freed slot goes to the waiter of lowest (priority, arrival)."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.best: int | None = None
        """Priority of the first waiter (read by compute threads; written on the loop)."""
        self.holders: list[int] = []
        """Priorities of the jobs holding a slot now."""
        self.held_s: dict[int, float] = dict.fromkeys(PRIORITY_NAMES, 0.0)
        """Seconds a slot was held, by the priority asked for, since start (jobs ended)."""
        self.waited_s: dict[int, float] = dict.fromkeys(PRIORITY_NAMES, 0.0)
        """Seconds jobs waited for a slot, by the priority asked for."""

    def wanted_at(self, *priorities: int) -> bool:
        """A job of one of ``priorities`` holds a slot or waits for one."""
        return any(p in priorities for p in self.holders) or any(
            w[0] in priorities for w in self._waiters
        )

    def _update(self) -> None:
        self.best = self._waiters[0][0] if self._waiters else None

    @property
    def free(self) -> int:
        return self._free

    @asynccontextmanager
    async def hold(self, priority: int, upgrade_in: float | None = None) -> AsyncIterator[None]:
        """A slot for the block; a waiter is raised to :data:`URGENT` after ``upgrade_in``
        seconds (at once if it is not positive; ``None``/``inf``: never)."""
        asked = priority
        if upgrade_in is not None and upgrade_in <= 0:
            priority, upgrade_in = URGENT, None
        began = time.monotonic()
        await self._acquire(priority, upgrade_in)
        granted = time.monotonic()
        self.waited_s[asked] += granted - began
        self.holders.append(priority)
        try:
            yield
        finally:
            self.held_s[asked] += time.monotonic() - granted
            self.holders.remove(priority)
            self._release()

    async def _acquire(self, priority: int, upgrade_in: float | None = None) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        self._update()
        timer = None
        if upgrade_in is not None and upgrade_in != float("inf"):
            timer = loop.call_later(upgrade_in, self._upgrade, future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # granted just as the waiter gave up: pass it on
            else:
                self._waiters = [w for w in self._waiters if w[2] is not future]
                heapq.heapify(self._waiters)
                self._update()
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _upgrade(self, future: asyncio.Future[None]) -> None:
        """The waiter of ``future`` goes before every other (its deadline is near)."""
        for i, (priority, order, waiter) in enumerate(self._waiters):
            if waiter is future and priority != URGENT:
                self._waiters[i] = (URGENT, order, future)
                heapq.heapify(self._waiters)
                self._update()
                return

    def _release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # the slot passes straight to it
                self._update()
                return
        self._free += 1
        self._update()


def _close(items: Iterator[object]) -> None:
    close = getattr(items, "close", None)
    if close is not None:
        close()


class _Failure:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
