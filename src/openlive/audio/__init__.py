"""Audio plumbing: PCM conversions, streaming resampling, WAV files, real-time chunking."""

from .pcm import (
    OUTPUT_RATE,
    SPEECH_RATE,
    StreamResampler,
    float_to_pcm16,
    pcm16_to_float,
    read_wav,
    resample,
    write_wav,
)

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
