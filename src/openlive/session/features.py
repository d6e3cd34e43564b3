"""What openlive does with each setup field: honour it, accept and log it, or refuse it.

One rule for what is not built yet: a field that changes *what the client receives* is refused
with a 1007 reason naming it; a field that only tunes quality is accepted and logged once.
Nothing is silently dropped. Paths are the camelCase wire names.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from ..errors import InvalidArgument
from ..types import GenerationConfig, Setup
from .window import check_compression

__all__ = ["FIELD_TREATMENT", "Treatment", "response_modalities", "review_setup"]


class Treatment(StrEnum):
    HONOURED = "honoured"
    LOGGED = "accepted and logged (tunes quality only)"
    REFUSED = "refused until implemented"
    UNSUPPORTED = "not supported by the Live API"


H, L, R, U = Treatment.HONOURED, Treatment.LOGGED, Treatment.REFUSED, Treatment.UNSUPPORTED

FIELD_TREATMENT: dict[str, Treatment] = {
    "model": H,
    "systemInstruction": H,
    "generationConfig.responseModalities": H,  # TEXT honoured; AUDIO/IMAGE checked separately
    "generationConfig.temperature": H,
    "generationConfig.topP": H,
    "generationConfig.topK": H,
    "generationConfig.maxOutputTokens": H,
    "generationConfig.seed": H,
    "generationConfig.presencePenalty": H,
    "generationConfig.frequencyPenalty": H,
    "generationConfig.stopSequences": H,
    "generationConfig.candidateCount": H,  # 1 honoured; more refused below
    "generationConfig.speechConfig.voiceConfig": H,
    "generationConfig.speechConfig.languageCode": H,
    "generationConfig.speechConfig.multiSpeakerVoiceConfig": R,
    "generationConfig.mediaResolution": L,
    "generationConfig.thinkingConfig": L,
    "generationConfig.enableAffectiveDialog": L,
    "generationConfig.translationConfig": R,
    "generationConfig.responseMimeType": U,
    "generationConfig.responseSchema": U,
    "generationConfig.responseJsonSchema": U,
    "generationConfig.responseLogprobs": U,
    "generationConfig.logprobs": U,
    "generationConfig.routingConfig": U,
    "generationConfig.audioTimestamp": U,
    "tools": H,  # functionDeclarations (BLOCKING, NON_BLOCKING); Google-hosted tools refused
    "toolConfig": H,
    "realtimeInputConfig.activityHandling": H,
    "realtimeInputConfig.automaticActivityDetection.disabled": H,
    "realtimeInputConfig.automaticActivityDetection.startOfSpeechSensitivity": H,
    "realtimeInputConfig.automaticActivityDetection.endOfSpeechSensitivity": H,
    "realtimeInputConfig.automaticActivityDetection.prefixPaddingMs": H,
    "realtimeInputConfig.automaticActivityDetection.silenceDurationMs": H,
    "realtimeInputConfig.turnCoverage": H,
    "realtimeInputConfig.interimTranscriptTimestampEnabled": L,
    "sessionResumption": H,
    "contextWindowCompression": H,  # sliding window (session/window.py)
    "inputAudioTranscription": H,
    "outputAudioTranscription": H,
    "proactivity": L,
    "explicitVadSignal": R,
    "historyConfig": H,
    "avatarConfig": R,
    "safetySettings": L,
    "labels": L,
}


def _set_paths(model: BaseModel, prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted camelCase paths of every field the client set, deepest known path first."""
    out: list[tuple[str, Any]] = []
    for name in model.model_fields_set:
        value = getattr(model, name)
        path = f"{prefix}{to_camel(name)}"
        if value is None:
            continue
        if path in FIELD_TREATMENT or not isinstance(value, BaseModel):
            out.append((path, value))
            continue
        inner = _set_paths(value, path + ".")
        out.extend(inner or [(path, value)])
    return sorted(out)


# (field, lowest, highest, upper bound included): the documented ranges of the Gemini API's
# GenerationConfig. NaN fails every comparison, so it is refused too.
_FLOAT_RANGES: tuple[tuple[str, float, float, bool], ...] = (
    ("temperature", 0.0, 2.0, True),
    ("top_p", 0.0, 1.0, True),
    ("presence_penalty", -2.0, 2.0, False),
    ("frequency_penalty", -2.0, 2.0, False),
)


def _check_ranges(gc: GenerationConfig) -> None:
    """Refuse sampling values outside their documented ranges (1007, naming the wire field)."""
    for name, low, high, closed in _FLOAT_RANGES:
        value = getattr(gc, name)
        if value is None:
            continue
        inside = low <= value <= high if closed else low <= value < high
        if not inside:
            bracket = "]" if closed else ")"
            raise InvalidArgument(
                f"generationConfig.{to_camel(name)} must be in [{low:g}, {high:g}{bracket}, "
                f"got {value:g}"
            )
    if gc.top_k is not None and gc.top_k < 1:
        raise InvalidArgument(f"generationConfig.topK must be at least 1, got {gc.top_k}")
    if gc.max_output_tokens is not None and gc.max_output_tokens < 1:
        raise InvalidArgument(
            f"generationConfig.maxOutputTokens must be positive, got {gc.max_output_tokens}"
        )
    if gc.candidate_count not in (None, 1):
        raise InvalidArgument(
            f"generationConfig.candidateCount must be 1 in a Live session, got {gc.candidate_count}"
        )


def response_modalities(setup: Setup) -> list[str]:
    """What the session answers with: ``responseModalities``, AUDIO when unset (as the Live
    API's native-audio models do)."""
    gc = setup.generation_config
    return (gc.response_modalities if gc else None) or ["AUDIO"]


def review_setup(setup: Setup) -> list[str]:
    """Raise :class:`InvalidArgument` for a refused field; return log notes for accepted ones."""
    notes: list[str] = []
    gc = setup.generation_config
    modalities = response_modalities(setup)
    unknown = [m for m in modalities if m not in ("TEXT", "AUDIO")]
    if unknown:
        raise InvalidArgument(
            f"responseModalities {'+'.join(unknown)} is not supported; use TEXT and/or AUDIO"
        )
    if gc is not None:
        _check_ranges(gc)
    check_compression(setup)
    for path, _ in _set_paths(setup):
        treatment = FIELD_TREATMENT.get(path, Treatment.LOGGED)
        if treatment is Treatment.REFUSED:
            raise InvalidArgument(f"setup.{path} is not supported by openlive yet; remove it")
        if treatment is Treatment.UNSUPPORTED:
            raise InvalidArgument(f"setup.{path} is not supported in Live sessions")
        if treatment is Treatment.LOGGED:
            notes.append(f"setup.{path} accepted; it does not change this model's output")
    return notes
