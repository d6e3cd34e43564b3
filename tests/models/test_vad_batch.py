"""Batched voice activity detection gives every session the probabilities it would get on its
own, whatever the other sessions send and however their chunks interleave, and a session that
leaves frees its slot for the next (which starts from a clean state)."""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest

from openlive.models.scheduler import Scheduler
from openlive.models.speech.vad import BatchedVad, VadBatcher, VadModel

from ..speech import espeak

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def model() -> VadModel:
    return VadModel(threads=1)


@pytest.fixture(scope="module")
def voices() -> list[np.ndarray]:
    """Different speech per session, with pauses and background noise of its own."""
    rng = np.random.default_rng(7)
    lines = [
        ("What is the capital of France?", "en-us+f3", 150, 60),
        ("Turn the kitchen lights off, please.", "en-us+m3", 170, 40),
        ("How far is the moon from here?", "en-gb+f2", 140, 70),
        ("Remind me to call my sister tomorrow.", "en-us+m1", 160, 50),
    ]
    out = []
    for i, (text, voice, speed, pitch) in enumerate(lines):
        speech = espeak(text, voice, speed, pitch)
        pause = np.zeros(8000 + 3000 * i, np.float32)
        audio = np.concatenate([pause, speech, pause, speech[: speech.size // 2], pause])
        out.append((audio + rng.normal(0, 0.003, audio.size)).astype(np.float32))
    return out


def alone(model: VadModel, audio: np.ndarray, chunk: int) -> list[float]:
    vad = model.stream()
    probs: list[float] = []
    for i in range(0, audio.size, chunk):
        probs.extend(vad.probabilities(audio[i : i + chunk]))
    return probs


async def feed(stream: BatchedVad, audio: np.ndarray, chunk: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    probs: list[float] = []
    for i in range(0, audio.size, chunk):
        await asyncio.sleep(rng.uniform(0, 0.004))  # sessions' chunks arrive interleaved
        probs.extend(await stream.probabilities(audio[i : i + chunk]))
    return probs


@pytest.mark.parametrize("window", [0.0, 0.01])
async def test_batched_equals_alone(
    model: VadModel, voices: list[np.ndarray], window: float
) -> None:
    scheduler = Scheduler()
    try:
        batcher = VadBatcher(model, scheduler.run_light, window=window)
        chunks = [1600, 3200, 777, 4096]  # 100 ms, 200 ms, odd sizes, several frames at once
        streams = [batcher.stream() for _ in voices]
        got = await asyncio.gather(
            *(
                feed(s, a, c, i)
                for i, (s, a, c) in enumerate(zip(streams, voices, chunks, strict=True))
            )
        )
        for audio, chunk, probs in zip(voices, chunks, got, strict=True):
            expected = alone(model, audio, chunk)
            assert len(probs) == len(expected) == audio.size // 512
            assert np.max(np.abs(np.array(probs) - np.array(expected))) < TOLERANCE
            assert max(expected) > 0.9 and min(expected) < 0.1  # speech and pauses both heard
        # frames of several sessions went through shared calls
        assert batcher.stats["frames"] > batcher.stats["calls"]
    finally:
        await scheduler.shutdown()


async def test_leaving_frees_the_slot(model: VadModel, voices: list[np.ndarray]) -> None:
    scheduler = Scheduler()
    try:
        batcher = VadBatcher(model, scheduler.run_light, window=0.0)
        first, second = batcher.stream(), batcher.stream()
        await asyncio.gather(feed(first, voices[0], 1600, 1), feed(second, voices[1], 1600, 2))
        assert (batcher.open_streams, batcher.free_slots) == (2, 0)
        slot = first.slot
        first.close()
        first.close()  # twice is harmless
        assert (batcher.open_streams, batcher.free_slots) == (1, 1)
        with pytest.raises(RuntimeError, match="closed"):
            await first.probabilities(voices[0][:1600])
        # the next session takes the slot and starts from a clean state, not the last one's
        third = batcher.stream()
        assert third.slot == slot and batcher.free_slots == 0
        probs = await feed(third, voices[2], 1600, 3)
        expected = alone(model, voices[2], 1600)
        assert np.max(np.abs(np.array(probs) - np.array(expected))) < TOLERANCE
        second.close()
        third.close()
        assert (batcher.open_streams, batcher.free_slots) == (0, 2)
    finally:
        await scheduler.shutdown()


async def test_a_failing_row_fails_only_its_session(
    model: VadModel, voices: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler = Scheduler()
    try:
        batcher = VadBatcher(model, scheduler.run_light, window=0.05)
        good, bad = batcher.stream(), batcher.stream()
        infer = VadModel.infer

        def picky(self: VadModel, x: np.ndarray, state: np.ndarray) -> object:
            if np.isnan(x).any():
                raise ValueError("not a number")
            return infer(self, x, state)

        monkeypatch.setattr(VadModel, "infer", picky)
        poisoned = np.full(1600, np.nan, np.float32)
        results = await asyncio.gather(
            good.probabilities(voices[0][:1600]),
            bad.probabilities(poisoned),
            return_exceptions=True,
        )
        assert results[0] == pytest.approx(alone(model, voices[0][:1600], 1600), abs=TOLERANCE)
        assert isinstance(results[1], ValueError)
    finally:
        await scheduler.shutdown()
