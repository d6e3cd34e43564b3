"""Lyria RealTime (BidiGenerateMusic) messages (spec §9)."""

from __future__ import annotations

from typing import Any

from ._base import Base64Bytes, WireModel

__all__ = [
    "AudioChunk",
    "FilteredPrompt",
    "MusicClientContent",
    "MusicClientMessage",
    "MusicGenerationConfig",
    "MusicServerContent",
    "MusicServerMessage",
    "MusicSetup",
    "WeightedPrompt",
]


class WeightedPrompt(WireModel):
    text: str = ""
    weight: float = 1.0


class MusicGenerationConfig(WireModel):
    temperature: float | None = None
    top_k: int | None = None
    seed: int | None = None
    guidance: float | None = None
    bpm: int | None = None
    density: float | None = None
    brightness: float | None = None
    scale: str | None = None
    mute_bass: bool | None = None
    mute_drums: bool | None = None
    only_bass_and_drums: bool | None = None
    music_generation_mode: str | None = None


class MusicSetup(WireModel):
    model: str = ""


class MusicClientContent(WireModel):
    weighted_prompts: list[WeightedPrompt] = []


class MusicClientMessage(WireModel):
    setup: MusicSetup | None = None
    client_content: MusicClientContent | None = None
    music_generation_config: MusicGenerationConfig | None = None
    playback_control: str | None = None


class AudioChunk(WireModel):
    data: Base64Bytes = b""
    mime_type: str | None = None
    source_metadata: dict[str, Any] | None = None


class MusicServerContent(WireModel):
    audio_chunks: list[AudioChunk] = []


class FilteredPrompt(WireModel):
    text: str | None = None
    filtered_reason: str | None = None


class MusicServerMessage(WireModel):
    setup_complete: dict[str, Any] | None = None
    server_content: MusicServerContent | None = None
    filtered_prompt: FilteredPrompt | None = None
    warning: str | None = None
