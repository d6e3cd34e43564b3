"""Audio plumbing: PCM conversions, streaming resampling, WAV files, real-time chunking.

The sample rates import without numpy; the rest loads :mod:`openlive.audio.pcm` (numpy) when
first used, so a plain ``pip install openlive`` (the SDK, no numpy) can import this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .rates import OUTPUT_RATE, SPEECH_RATE

if TYPE_CHECKING:
    from .pcm import (
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

_FROM_PCM = frozenset(__all__) - {"OUTPUT_RATE", "SPEECH_RATE"}


def __getattr__(name: str) -> Any:
    if name in _FROM_PCM:
        try:
            from . import pcm
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(
                f"openlive.audio.{name} needs {exc.name}: pip install 'openlive[audio]'",
                name=exc.name,
            ) from exc
        return getattr(pcm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
