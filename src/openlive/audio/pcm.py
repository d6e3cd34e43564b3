"""PCM16 little-endian mono ⇄ float32, resampling (streaming, constant memory), WAV files."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from .rates import OUTPUT_RATE, SPEECH_RATE

__all__ = [
    "OUTPUT_RATE",
    "SPEECH_RATE",
    "StreamResampler",
    "float_to_pcm16",
    "pcm16_to_float",
    "read_wav",
    "resample",
    "write_wav",
]

Floats = npt.NDArray[np.float32]


def pcm16_to_float(data: bytes) -> Floats:
    if len(data) % 2:
        data = data[:-1]
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: Floats) -> bytes:
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def _soxr() -> Any:
    try:
        import soxr
    except ImportError as exc:
        raise ModuleNotFoundError(
            "resampling audio needs soxr: pip install 'openlive[audio]'", name="soxr"
        ) from exc
    return soxr


def resample(samples: Floats, rate_in: int, rate_out: int) -> Floats:
    if rate_in == rate_out or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    soxr = _soxr()
    return np.asarray(soxr.resample(samples, rate_in, rate_out, quality="HQ"), dtype=np.float32)


class StreamResampler:
    """Resamples a stream chunk by chunk in constant memory (soxr keeps the filter state)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in = rate_in
        self.rate_out = rate_out
        self._stream = None
        if rate_in != rate_out:
            self._stream = _soxr().ResampleStream(
                rate_in, rate_out, 1, dtype="float32", quality="HQ"
            )

    def process(self, samples: Floats, last: bool = False) -> Floats:
        if self._stream is None:
            return samples
        return np.asarray(self._stream.resample_chunk(samples, last=last), dtype=np.float32)


def read_wav(path: str | Path | BinaryIO) -> tuple[Floats, int]:
    """Mono float32 samples and the rate of a PCM16 WAV file (stereo is averaged)."""
    source = str(path) if isinstance(path, str | Path) else path
    with wave.open(source, "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV files are supported")
        frames = wav.readframes(wav.getnframes())
        channels = wav.getnchannels()
        rate = wav.getframerate()
    samples = pcm16_to_float(frames)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.float32)
    return samples, rate


def write_wav(path: str | Path | BinaryIO, samples: Floats | bytes, rate: int) -> None:
    data = samples if isinstance(samples, bytes) else float_to_pcm16(samples)
    target = str(path) if isinstance(path, str | Path) else path
    with wave.open(target, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(data)
