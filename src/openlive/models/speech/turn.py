"""Semantic end of turn: pipecat's smart-turn v3.2 model on onnxruntime.

The model (BSD-2-Clause; the ONNX file of the pinned ``pipecat-ai`` wheel, from the weights
cache: see :data:`openlive.weights.SMART_TURN`) hears the last 8 s of the user's speech and
gives the probability that they have finished their turn, from intonation and words rather than
silence alone: "what time is it?" should score high, "I'd like to book a table for …" low.

Input: 16 kHz float32 mono samples in [-1, 1], the utterance from (a little before) its start up
to now, trailing silence included (upstream, it is asked once voice activity detection has
heard a short silence). Only the last 8 s count; shorter audio is zero-padded at the start.
Features are Whisper's log-mel spectrogram (80 bands, 25 ms window, 10 ms hop, 800 frames) of
the zero-mean, unit-variance waveform, computed here in numpy.

One call costs ~70 ms of one core on the 2-core CI machine (6 ms of it the features); how it
compares with fixed silence, and the defaults it suggests, are in ``benchmarks/RESULTS.md``
(``python -m benchmarks.endpointing``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...audio.pcm import Floats
from ...weights import SMART_TURN, ensure_weights

__all__ = [
    "SAMPLE_RATE",
    "WINDOW_SAMPLES",
    "SmartTurn",
    "turn_features",
]

SAMPLE_RATE = 16000
WINDOW_SAMPLES = 8 * SAMPLE_RATE
"""The model hears the last 8 s."""

N_FFT = 400
HOP = 160
N_MELS = 80
FRAMES = WINDOW_SAMPLES // HOP


def _slaney_hz_to_mel(hz: Any) -> Any:
    """Slaney's mel scale: linear (3 per 200 Hz) below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    step = np.log(6.4) / 27.0
    return np.where(
        hz < 1000.0, hz * 3.0 / 200.0, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / step
    )


def _slaney_mel_to_hz(mel: Any) -> Any:
    mel = np.asarray(mel, dtype=np.float64)
    step = np.log(6.4) / 27.0
    return np.where(mel < 15.0, mel * 200.0 / 3.0, 1000.0 * np.exp(step * (mel - 15.0)))


def _mel_filters() -> Any:
    """(N_MELS, N_FFT/2+1) triangular filters, area-normalized (Slaney), 0-8 kHz."""
    edges = _slaney_mel_to_hz(np.linspace(0.0, _slaney_hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    bins = np.arange(N_FFT // 2 + 1) * (SAMPLE_RATE / N_FFT)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    filters = np.maximum(0.0, np.minimum(rising, falling))
    return filters * (2.0 / (upper - lower))


_FILTERS = _mel_filters()
_WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann


def turn_features(pcm16k: Floats) -> Any:
    """The model's input for these samples: float32 ``(80, 800)`` log-mel features of the last
    8 s (zero-padded at the start when shorter), in roughly [-1.5, 1.5]."""
    x = np.asarray(pcm16k, dtype=np.float32).reshape(-1)[-WINDOW_SAMPLES:]
    if x.size < WINDOW_SAMPLES:
        x = np.concatenate([np.zeros(WINDOW_SAMPLES - x.size, dtype=np.float32), x])
    x = (x - x.mean()) / np.sqrt(x.var() + np.float32(1e-7))  # in float32, as the reference
    padded = np.pad(x.astype(np.float64), N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:FRAMES]
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=-1)) ** 2  # (800, 201)
    log_mel = np.log10(np.maximum(power @ _FILTERS.T, 1e-10)).T  # (80, 800)
    log_mel = np.maximum(log_mel, log_mel.max() - 8.0)
    return ((log_mel + 4.0) / 4.0).astype(np.float32)


class SmartTurn:
    """The end-of-turn model, loaded once per process.

    :meth:`probability` is thread-safe (onnxruntime sessions may be run from several threads;
    the features are computed without shared state) and stateless: each call hears only the
    audio it is given. It blocks for tens of milliseconds: call it off the event loop.
    """

    def __init__(self, path: Path | str | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = Path(path) if path is not None else ensure_weights(SMART_TURN)
        self.session = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self.session.get_inputs()[0].name
        self._lock = threading.Lock()
        self._calls = 0
        self._seconds = 0.0

    def probability(self, pcm16k: Floats) -> float:
        """Probability in [0, 1] that the speaker has finished their turn, from 16 kHz float32
        samples ending now (only the last 8 s are heard)."""
        started = time.perf_counter()
        features = turn_features(pcm16k)[None, :, :]
        (out,) = self.session.run(None, {self._input: features})
        p = float(np.asarray(out).reshape(-1)[0])
        with self._lock:
            self._calls += 1
            self._seconds += time.perf_counter() - started
        return min(1.0, max(0.0, p))

    def describe(self) -> dict[str, Any]:
        """For ``/healthz``: the model, and calls made with their mean cost."""
        with self._lock:
            calls, seconds = self._calls, self._seconds
        return {
            "model": SMART_TURN.name,
            "calls": calls,
            "mean_ms": round(1000 * seconds / calls, 1) if calls else None,
        }
