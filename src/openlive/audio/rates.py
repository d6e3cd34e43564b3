"""The two sample rates of the Live API's audio, importable without numpy (the SDK needs them)."""

from __future__ import annotations

__all__ = ["OUTPUT_RATE", "SPEECH_RATE"]

SPEECH_RATE = 16000
"""What voice activity detection and speech recognition run at (and ``realtimeInput.audio``'s
default rate)."""
OUTPUT_RATE = 24000
"""What the Live API sends back (``audio/pcm;rate=24000``)."""
