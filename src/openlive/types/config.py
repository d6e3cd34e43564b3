"""The ``setup`` message and its configuration blocks (spec §4.1)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationInfo, field_validator

from ._base import WireModel
from .content import Content

__all__ = [
    "AudioTranscriptionConfig",
    "AutomaticActivityDetection",
    "ContextWindowCompression",
    "FunctionDeclaration",
    "GenerationConfig",
    "HistoryConfig",
    "PrebuiltVoiceConfig",
    "Proactivity",
    "RealtimeInputConfig",
    "SessionResumptionConfig",
    "Setup",
    "SlidingWindow",
    "SpeechConfig",
    "ThinkingConfig",
    "Tool",
    "VoiceConfig",
]


class PrebuiltVoiceConfig(WireModel):
    voice_name: str | None = None


class VoiceConfig(WireModel):
    prebuilt_voice_config: PrebuiltVoiceConfig | None = None


class SpeechConfig(WireModel):
    voice_config: VoiceConfig | None = None
    language_code: str | None = None
    multi_speaker_voice_config: dict[str, Any] | None = None


class ThinkingConfig(WireModel):
    thinking_budget: int | None = None
    include_thoughts: bool | None = None
    thinking_level: str | None = None


class GenerationConfig(WireModel):
    response_modalities: list[str] | None = None
    speech_config: SpeechConfig | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    candidate_count: int | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop_sequences: list[str] | None = None
    media_resolution: str | None = None
    thinking_config: ThinkingConfig | None = None
    enable_affective_dialog: bool | None = None
    translation_config: dict[str, Any] | None = None
    response_mime_type: str | None = None
    response_schema: dict[str, Any] | None = None
    response_json_schema: Any = None
    response_logprobs: bool | None = None
    logprobs: int | None = None
    routing_config: dict[str, Any] | None = None
    audio_timestamp: bool | None = None

    @field_validator("response_modalities", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [v.upper() if isinstance(v, str) else v for v in value]
        return value


class FunctionDeclaration(WireModel):
    name: str = ""
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parameters_json_schema: Any = None
    response: dict[str, Any] | None = None
    response_json_schema: Any = None
    behavior: str | None = None


class Tool(WireModel):
    function_declarations: list[FunctionDeclaration] | None = None
    google_search: dict[str, Any] | None = None
    google_search_retrieval: dict[str, Any] | None = None
    code_execution: dict[str, Any] | None = None
    url_context: dict[str, Any] | None = None
    google_maps: dict[str, Any] | None = None
    computer_use: dict[str, Any] | None = None
    file_search: dict[str, Any] | None = None
    mcp_servers: list[dict[str, Any]] | None = None
    retrieval: dict[str, Any] | None = None
    enterprise_web_search: dict[str, Any] | None = None

    def is_empty(self) -> bool:
        return not any(getattr(self, name) not in (None, []) for name in type(self).model_fields)


def _enum(value: Any, names: tuple[str, ...]) -> Any:
    """An enum field as its name: the name itself, or its number (proto3 JSON allows both).
    Anything else is refused with the names allowed (the session closes with 1007)."""
    if value is None or (isinstance(value, str) and value in names):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return names[value]
    allowed = names[1:]  # *_UNSPECIFIED is accepted but not worth suggesting
    shared = 0  # leading words every name shares, written once: END_SENSITIVITY_HIGH or _LOW
    while len({tuple(n.split("_")[: shared + 1]) for n in allowed}) == 1:
        shared += 1
    cut = len("_".join(allowed[0].split("_")[:shared]))
    rest = [name[cut:] for name in allowed[1:]]
    listed = ", ".join([allowed[0], *rest[:-1]]) + f" or {rest[-1]}"
    said = f"{str(value)[:24]!r} is not" if len(listed) < 60 else "must be"  # fits a close frame
    raise ValueError(f"{said} {listed}")


_ENUMS: dict[str, tuple[str, ...]] = {
    "start_of_speech_sensitivity": (
        "START_SENSITIVITY_UNSPECIFIED",
        "START_SENSITIVITY_HIGH",
        "START_SENSITIVITY_LOW",
    ),
    "end_of_speech_sensitivity": (
        "END_SENSITIVITY_UNSPECIFIED",
        "END_SENSITIVITY_HIGH",
        "END_SENSITIVITY_LOW",
    ),
    "activity_handling": (
        "ACTIVITY_HANDLING_UNSPECIFIED",
        "START_OF_ACTIVITY_INTERRUPTS",
        "NO_INTERRUPTION",
    ),
    "turn_coverage": (
        "TURN_COVERAGE_UNSPECIFIED",
        "TURN_INCLUDES_ONLY_ACTIVITY",
        "TURN_INCLUDES_ALL_INPUT",
        "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
    ),
}
"""The enum fields of the realtime input configuration, by field, names in proto order."""


def _enum_field(value: Any, info: ValidationInfo) -> Any:
    return _enum(value, _ENUMS[info.field_name or ""])


class AutomaticActivityDetection(WireModel):
    disabled: bool | None = None
    start_of_speech_sensitivity: str | None = None
    end_of_speech_sensitivity: str | None = None
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None

    _enums = field_validator(
        "start_of_speech_sensitivity", "end_of_speech_sensitivity", mode="before"
    )(_enum_field)


class RealtimeInputConfig(WireModel):
    automatic_activity_detection: AutomaticActivityDetection | None = None
    activity_handling: str | None = None
    turn_coverage: str | None = None
    interim_transcript_timestamp_enabled: bool | None = None

    _enums = field_validator("activity_handling", "turn_coverage", mode="before")(_enum_field)


class SessionResumptionConfig(WireModel):
    handle: str | None = None
    transparent: bool | None = None


class SlidingWindow(WireModel):
    target_tokens: int | None = None


class ContextWindowCompression(WireModel):
    trigger_tokens: int | None = None
    sliding_window: SlidingWindow | None = None


class AudioTranscriptionConfig(WireModel):
    language_codes: list[str] | None = None
    custom_vocabulary: list[Any] | None = None
    word_timestamp: bool | None = None
    diarization: bool | None = None
    mode: str | None = None


class Proactivity(WireModel):
    proactive_audio: bool | None = None
    proactive_video: bool | None = None


class HistoryConfig(WireModel):
    initial_history_in_client_content: bool | None = None


class Setup(WireModel):
    """The first client message: which model, and how the session behaves."""

    model: str = ""
    generation_config: GenerationConfig | None = None
    system_instruction: Content | None = None
    tools: list[Tool] | None = None
    tool_config: dict[str, Any] | None = None
    realtime_input_config: RealtimeInputConfig | None = None
    session_resumption: SessionResumptionConfig | None = None
    context_window_compression: ContextWindowCompression | None = None
    input_audio_transcription: AudioTranscriptionConfig | None = None
    output_audio_transcription: AudioTranscriptionConfig | None = None
    proactivity: Proactivity | None = None
    explicit_vad_signal: bool | None = None
    history_config: HistoryConfig | None = None
    avatar_config: dict[str, Any] | None = None
    safety_settings: list[dict[str, Any]] | None = None
    labels: dict[str, str] | None = None

    @field_validator("system_instruction", mode="before")
    @classmethod
    def _loose_instruction(cls, value: Any) -> Any:
        """Firebase may send the system instruction as a bare string or a single part."""
        if isinstance(value, str):
            return {"role": "user", "parts": [{"text": value}]}
        if isinstance(value, dict) and "parts" not in value and "text" in value:
            return {"role": "user", "parts": [value]}
        return value

    def instruction_text(self) -> str:
        """The system instruction as plain text (its text parts joined)."""
        if self.system_instruction is None:
            return ""
        return "\n".join(p.text for p in self.system_instruction.parts if p.text)
