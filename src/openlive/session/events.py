"""What goes into and comes out of the session state machine.

Inputs: decoded client messages, engine events (below) and ticks, each with a timestamp.
Outputs: actions for the I/O adapter to perform, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..types import ServerMessage

__all__ = [
    "Action",
    "CancelGeneration",
    "ChatMessage",
    "Close",
    "EngineEvent",
    "GenerationDone",
    "GenerationFailed",
    "GenerationRequest",
    "Note",
    "PushAudio",
    "SamplingParams",
    "Send",
    "StartGeneration",
    "TextDelta",
]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True, slots=True)
class SamplingParams:
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Everything an LLM backend needs for one reply."""

    session_id: str
    turn_id: int
    system: str
    messages: tuple[ChatMessage, ...]
    params: SamplingParams = field(default_factory=SamplingParams)


# ---- engine events (inputs) ----


@dataclass(frozen=True, slots=True)
class TextDelta:
    turn_id: int
    text: str


@dataclass(frozen=True, slots=True)
class GenerationDone:
    turn_id: int
    prompt_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    finish_reason: str = "stop"


@dataclass(frozen=True, slots=True)
class GenerationFailed:
    turn_id: int
    message: str


EngineEvent = TextDelta | GenerationDone | GenerationFailed


# ---- actions (outputs) ----


@dataclass(frozen=True, slots=True)
class Send:
    message: ServerMessage


@dataclass(frozen=True, slots=True)
class StartGeneration:
    request: GenerationRequest


@dataclass(frozen=True, slots=True)
class CancelGeneration:
    turn_id: int


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class PushAudio:
    """Input audio for the engine: PCM16 little-endian mono at ``rate`` Hz."""

    data: bytes
    rate: int


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth one log line (accepted-but-ignored fields, dropped parts, ...)."""

    message: str


Action = Send | StartGeneration | CancelGeneration | PushAudio | Close | Note
