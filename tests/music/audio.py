"""Listening tools for the music tests: render a stream, and measure tempo, pitch classes,
band energy, spectral centroid and onset rate from the PCM alone."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import numpy as np
import pytest

from openlive.music.config import MusicConfig
from openlive.music.render import DEFAULT_SOUNDFONT

SR = 48000
HOP = 240  # 5 ms onset-envelope frames
NFFT = 2048


def require_synth() -> None:
    """Skip the calling test module when the SoundFont or the renderer is not installed."""
    if importlib.util.find_spec("tinysoundfont") is None:
        pytest.skip("tinysoundfont is not installed", allow_module_level=True)
    if not DEFAULT_SOUNDFONT.is_file():
        pytest.skip(
            f"no SoundFont at {DEFAULT_SOUNDFONT} (apt fluid-soundfont-gm)", allow_module_level=True
        )


def render(prompts: Sequence[tuple[str, float]], seconds: float, **config: object) -> np.ndarray:
    """``seconds`` of a fresh stream as float stereo in [-1, 1], shape (frames, 2)."""
    from openlive.music.stream import MusicStream

    stream = MusicStream(MusicConfig(**config), list(prompts))  # type: ignore[arg-type]
    chunks = [stream.next_chunk() for _ in range(int(np.ceil(seconds * 10)))]
    return pcm_to_float(b"".join(chunks))


def pcm_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768.0


def mono(audio: np.ndarray) -> np.ndarray:
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def spectrogram(x: np.ndarray, hop: int = HOP, nfft: int = NFFT) -> np.ndarray:
    frames = 1 + (len(x) - nfft) // hop
    idx = np.arange(nfft)[None, :] + hop * np.arange(frames)[:, None]
    return np.abs(np.fft.rfft(x[idx] * np.hanning(nfft), axis=1))


def onset_envelope(audio: np.ndarray, low_hz: float = 0.0) -> np.ndarray:
    """Spectral flux of the log-magnitude spectrogram (rectified), one value per 5 ms."""
    spec = spectrogram(mono(audio))
    spec = spec[:, int(low_hz * NFFT / SR) :]
    logmag = np.log1p(1000.0 * spec)
    flux = np.maximum(0.0, np.diff(logmag, axis=0)).sum(axis=1)
    centred: np.ndarray = flux - flux.mean()
    return centred


def tempo(audio: np.ndarray, low: float = 55.0, high: float = 215.0) -> float:
    """The tempo in bpm from the autocorrelation of the onset envelope: the strongest beat
    period (periods whose multiples are also periodic score higher), refined by the positions
    of the peaks at its multiples."""
    env = onset_envelope(audio)
    n = len(env)
    spec = np.fft.rfft(env, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac /= ac[0]
    rate = SR / HOP
    lags = np.arange(int(rate * 60 / high), int(rate * 60 / low) + 1)

    def peak(lag: float) -> float:
        i = round(lag)
        lo, hi = max(1, i - 3), min(n - 2, i + 3)
        j = lo + int(np.argmax(ac[lo : hi + 1]))
        a, b, c = ac[j - 1], ac[j], ac[j + 1]
        denom = a - 2 * b + c
        return j + (0.5 * (a - c) / denom if denom else 0.0)

    score = np.array([sum(float(ac[min(n - 1, k * int(lag))]) for k in (1, 2, 4)) for lag in lags])
    best = float(lags[int(np.argmax(score))])
    multiples = [k for k in (1, 2, 3, 4) if k * best < n * 0.6]
    period = sum(peak(k * best) for k in multiples) / sum(multiples)
    return 60.0 * rate / period


def chroma(audio: np.ndarray, low_hz: float = 60.0, high_hz: float = 2000.0) -> np.ndarray:
    """Energy per pitch class (0 = C), from the power spectrum of the whole signal."""
    x = mono(audio)
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    keep = (freqs >= low_hz) & (freqs <= high_hz)
    midi = 69 + 12 * np.log2(freqs[keep] / 440.0)
    classes = np.round(midi).astype(int) % 12
    return np.bincount(classes, weights=power[keep], minlength=12)


def band_energy(audio: np.ndarray, low_hz: float, high_hz: float) -> float:
    x = mono(audio)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    return float(power[(freqs >= low_hz) & (freqs < high_hz)].sum() / len(x))


def centroid(audio: np.ndarray) -> float:
    spec = spectrogram(mono(audio), hop=2048) ** 2
    freqs = np.fft.rfftfreq(NFFT, 1 / SR)
    return float((spec * freqs).sum() / spec.sum())


def onset_strength(audio: np.ndarray, low_hz: float = 2000.0) -> float:
    """Rectified spectral flux above ``low_hz`` per second: how much and how often new sound
    starts (percussive, broadband attacks score highest)."""
    spec = spectrogram(mono(audio))[:, int(low_hz * NFFT / SR) :]
    flux = np.maximum(0.0, np.diff(np.log1p(10.0 * spec), axis=0)).sum(axis=1)
    return float(flux.sum() / (len(mono(audio)) / SR))
