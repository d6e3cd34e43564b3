"""The ``setup`` message and its configuration blocks (spec §4.1)."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

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


class AutomaticActivityDetection(WireModel):
    disabled: bool | None = None
    start_of_speech_sensitivity: str | None = None
    end_of_speech_sensitivity: str | None = None
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None


class RealtimeInputConfig(WireModel):
    automatic_activity_detection: AutomaticActivityDetection | None = None
    activity_handling: str | None = None
    turn_coverage: str | None = None
    interim_transcript_timestamp_enabled: bool | None = None


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
