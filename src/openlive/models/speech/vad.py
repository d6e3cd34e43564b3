"""Silero VAD (the ONNX model of the ``silero-vad`` wheel, from the weights cache: see
:data:`openlive.weights.SILERO_VAD`) on onnxruntime, no torch.

A stream takes 16 kHz float32 audio of any length and returns one speech probability per
512-sample (32 ms) frame, keeping the leftover samples, the 64-sample context the model wants
prepended and its recurrent state between calls.

Sessions share one model. :meth:`VadModel.open` gives a session a stream of the server's
:class:`VadBatcher`: the frames every session has ready are gathered (for at most
``window`` seconds, or until every open stream has some) and run as one batch per 32 ms step,
each session's recurrent state and context kept in a row (its slot) of the batcher's arrays.
One ONNX call for many sessions costs ~70 us a frame instead of ~270 us.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ...audio.pcm import Floats
from ...weights import SILERO_VAD, ensure_weights
from ..scheduler import Scheduler

__all__ = ["BatchedVad", "SileroVad", "VadBatcher", "VadModel", "VadStream"]

FRAME = 512
CONTEXT = 64
STATE = 128
WINDOW_S = 0.02
"""How long the first queued frames may wait for other sessions' frames."""
MAX_ROWS = 256
"""Sessions in one batch: beyond this, frames are run without waiting."""
_SR = np.array(16000, dtype=np.int64)


def batch_window() -> float | None:
    """``OPENLIVE_VAD_BATCH``: ``off`` runs each session's frames on their own (as before
    batching; for comparison), a number is the gathering window in ms (default 20)."""
    value = os.environ.get("OPENLIVE_VAD_BATCH", "").strip().lower()
    if value in ("off", "0", "false", "no"):
        return None
    return float(value) / 1000 if value else WINDOW_S


class VadStream(Protocol):
    """A session's voice activity detector."""

    async def probabilities(self, samples: Floats) -> list[float]: ...

    def close(self) -> None: ...


class VadModel:
    """The shared ONNX session (thread-safe for ``run``); one per server."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        path = ensure_weights(SILERO_VAD)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._batchers: weakref.WeakKeyDictionary[Scheduler, VadBatcher] = (
            weakref.WeakKeyDictionary()
        )

    def infer(self, x: Floats, state: Floats) -> tuple[Floats, Floats]:
        """One step: ``x`` (rows, 64 + 512) context and frame, ``state`` (2, rows, 128);
        returns the rows' probabilities and their next state."""
        prob, state = self.session.run(None, {"input": x, "state": state, "sr": _SR})
        return prob[:, 0], state

    def stream(self) -> SileroVad:
        """A synchronous stream of its own (one ONNX call per frame)."""
        return SileroVad(self)

    def open(self, scheduler: Scheduler) -> VadStream:
        """A session's stream, batched with the other sessions' unless batching is off."""
        window = batch_window()
        if window is None:
            return _ThreadedVad(self.stream(), scheduler)
        batcher = self._batchers.get(scheduler)
        if batcher is None or batcher.loop is not asyncio.get_running_loop():
            batcher = self._batchers[scheduler] = VadBatcher(
                self, scheduler.run_light, window=window
            )
        return batcher.stream()


class SileroVad:
    """Per-session streaming state, run on its own."""

    def __init__(self, model: VadModel) -> None:
        self.model = model
        self.state: Any = np.zeros((2, 1, STATE), dtype=np.float32)
        self.context: Floats = np.zeros(CONTEXT, dtype=np.float32)
        self.pending: Floats = np.zeros(0, dtype=np.float32)

    def probabilities(self, samples: Floats) -> list[float]:
        data = np.concatenate([self.pending, samples]) if self.pending.size else samples
        n = data.size // FRAME
        self.pending = data[n * FRAME :].copy()
        out: list[float] = []
        for i in range(n):
            frame = data[i * FRAME : (i + 1) * FRAME]
            x = np.concatenate([self.context, frame])[None, :]
            prob, self.state = self.model.infer(x, self.state)
            self.context = frame[-CONTEXT:]
            out.append(float(prob[0]))
        return out


class _ThreadedVad:
    """A :class:`SileroVad` run on the scheduler's light thread, one chunk per job."""

    def __init__(self, vad: SileroVad, scheduler: Scheduler) -> None:
        self.vad = vad
        self.scheduler = scheduler

    async def probabilities(self, samples: Floats) -> list[float]:
        return await self.scheduler.run_light(functools.partial(self.vad.probabilities, samples))

    def close(self) -> None:
        pass


@dataclass(eq=False)
class _Request:
    stream: BatchedVad
    frames: Floats
    """(n, 512)"""
    future: asyncio.Future[list[float]]
    queued: float
    fresh: bool = False


@dataclass(eq=False)
class _Row:
    slot: int
    fresh: bool
    requests: list[_Request] = field(default_factory=list)
    frames: Floats = field(default_factory=lambda: np.zeros((0, FRAME), np.float32))


class BatchedVad:
    """A session's stream on a :class:`VadBatcher`; :meth:`close` frees its slot."""

    def __init__(self, batcher: VadBatcher, slot: int) -> None:
        self.batcher = batcher
        self.slot = slot
        self.pending: Floats = np.zeros(0, dtype=np.float32)
        self.fresh = True
        """The slot's state is reset before this stream's first frames."""
        self.closed = False

    async def probabilities(self, samples: Floats) -> list[float]:
        if self.closed:
            raise RuntimeError("voice activity stream closed")
        data = np.concatenate([self.pending, samples]) if self.pending.size else samples
        n = data.size // FRAME
        self.pending = data[n * FRAME :].copy()
        if not n:
            return []
        frames = data[: n * FRAME].reshape(n, FRAME)
        future: asyncio.Future[list[float]] = self.batcher.loop.create_future()
        self.batcher.submit(_Request(self, frames, future, time.monotonic()))
        return await future

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.batcher.release(self)


class VadBatcher:
    """Runs every session's ready frames as batches on the scheduler's light thread.

    The loop side keeps the slots and the queue of requests (one per session chunk; a session
    waits for its result before sending the next, so its queue holds at most one). A job takes
    every queued request, runs one ONNX call per 32 ms step with a row per session, and hands
    each request its probabilities. The arrays (each slot's recurrent state and context) are
    touched only by jobs, one at a time, so a freed slot is reset by the next job that uses it.
    A batch that fails is run again row by row, so an error ends only the session it belongs to.
    """

    def __init__(
        self,
        model: VadModel,
        run: Callable[[Callable[[], list[list[float] | BaseException]]], Coroutine[Any, Any, Any]],
        *,
        window: float = WINDOW_S,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.model = model
        self.loop = asyncio.get_running_loop()
        self._run = run
        self.window = window
        self.max_rows = max_rows
        self._free: list[int] = []
        self._slots = 0
        self._streams: set[BatchedVad] = set()
        self._queue: list[_Request] = []
        self._timer: asyncio.TimerHandle | None = None
        self._job: asyncio.Task[Any] | None = None
        self._state: Floats = np.zeros((2, 0, STATE), np.float32)
        self._context: Floats = np.zeros((0, CONTEXT), np.float32)
        self.stats = {"jobs": 0, "calls": 0, "frames": 0}

    # ---- the loop side ----

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    @property
    def free_slots(self) -> int:
        return len(self._free)

    def stream(self) -> BatchedVad:
        if self._free:
            slot = self._free.pop()
        else:
            slot, self._slots = self._slots, self._slots + 1
        stream = BatchedVad(self, slot)
        self._streams.add(stream)
        return stream

    def release(self, stream: BatchedVad) -> None:
        if stream not in self._streams:
            return
        self._streams.discard(stream)
        for request in self._queue:
            if request.stream is stream:
                request.future.cancel()
        self._queue = [r for r in self._queue if r.stream is not stream]
        self._free.append(stream.slot)
        self._kick()

    def submit(self, request: _Request) -> None:
        self._queue.append(request)
        self._kick()

    def _kick(self) -> None:
        """Start a job now if every open stream has frames waiting (or the batch is full),
        otherwise once the oldest request has waited ``window``."""
        if self._job is not None or not self._queue:
            return
        if len(self._queue) >= min(len(self._streams), self.max_rows) or self.window <= 0:
            self._dispatch()
            return
        if self._timer is None:
            delay = self._queue[0].queued + self.window - time.monotonic()
            self._timer = self.loop.call_later(max(0.0, delay), self._expired)

    def _expired(self) -> None:
        self._timer = None
        if self._job is None:
            self._dispatch()

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch = [r for r in self._queue if not r.future.done()]
        self._queue = []
        if not batch:
            return
        rows: dict[int, _Row] = {}
        for request in batch:
            stream = request.stream
            row = rows.get(stream.slot)
            if row is None:
                row = rows[stream.slot] = _Row(stream.slot, stream.fresh)
                stream.fresh = False
            row.requests.append(request)
        ordered = [r for row in rows.values() for r in row.requests]  # the results' order
        job = functools.partial(self._compute, list(rows.values()), self._slots)
        self._job = self.loop.create_task(self._run(job))
        self._job.add_done_callback(functools.partial(self._finished, ordered))

    def _finished(self, batch: list[_Request], job: asyncio.Task[Any]) -> None:
        self._job = None
        try:
            results: list[list[float] | BaseException] = job.result()
        except BaseException as exc:  # the thread pool itself failed (shut down)
            results = [exc] * len(batch)
        for request, result in zip(batch, results, strict=True):
            if request.future.done():
                continue
            if isinstance(result, BaseException):
                request.future.set_exception(result)
            else:
                request.future.set_result(result)
        # after the woken sessions have run: those with audio waiting join the next batch
        # (dispatching at once would leave them out of it, and under a backlog sessions would
        # alternate between half-size batches)
        self.loop.call_soon(self._kick)

    # ---- the light thread ----

    def _compute(self, rows: list[_Row], slots: int) -> list[list[float] | BaseException]:
        """Run the rows' frames (one job at a time); a result per request, row by row."""
        if self._state.shape[1] < slots:
            grown = max(slots, 2 * self._state.shape[1], 16)
            state = np.zeros((2, grown, STATE), np.float32)
            state[:, : self._state.shape[1]] = self._state
            context = np.zeros((grown, CONTEXT), np.float32)
            context[: self._context.shape[0]] = self._context
            self._state, self._context = state, context
        for row in rows:
            if row.fresh:
                self._state[:, row.slot] = 0.0
                self._context[row.slot] = 0.0
            frames = [r.frames for r in row.requests]
            row.frames = frames[0] if len(frames) == 1 else np.concatenate(frames)
        index = np.array([row.slot for row in rows])
        saved = self._state[:, index].copy(), self._context[index].copy()
        outcome: dict[int, list[float] | BaseException] = {}
        try:
            for row, probs in zip(rows, self._steps(rows), strict=True):
                outcome[row.slot] = probs
        except Exception:
            self._state[:, index], self._context[index] = saved
            for row in rows:  # again on its own, so only the failing session hears of it
                try:
                    outcome[row.slot] = self._steps([row])[0]
                except Exception as exc:
                    outcome[row.slot] = exc
        results: list[list[float] | BaseException] = []
        for row in rows:
            got = outcome[row.slot]
            start = 0
            for request in row.requests:
                n = request.frames.shape[0]
                results.append(got if isinstance(got, BaseException) else got[start : start + n])
                start += n
        self.stats["jobs"] += 1
        return results

    def _steps(self, rows: list[_Row]) -> list[list[float]]:
        counts = np.array([row.frames.shape[0] for row in rows])
        slots = np.array([row.slot for row in rows])
        frames = np.zeros((len(rows), int(counts.max()), FRAME), np.float32)
        for i, row in enumerate(rows):
            frames[i, : counts[i]] = row.frames
        probs = np.zeros((len(rows), frames.shape[1]), np.float32)
        x = np.empty((len(rows), CONTEXT + FRAME), np.float32)
        for step in range(frames.shape[1]):
            active = np.flatnonzero(counts > step)  # rows are whole steps: most rows, all steps
            at = slots[active]
            x_step = x[: active.size]
            x_step[:, :CONTEXT] = self._context[at]
            x_step[:, CONTEXT:] = frames[active, step]
            p, state = self.model.infer(x_step, self._state[:, at])
            self._state[:, at] = state
            self._context[at] = x_step[:, -CONTEXT:]
            probs[active, step] = p
            self.stats["calls"] += 1
            self.stats["frames"] += int(active.size)
        return [probs[i, : counts[i]].tolist() for i in range(len(rows))]
