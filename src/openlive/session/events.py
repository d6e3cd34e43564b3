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
    "FinishSpeech",
    "GenerationDone",
    "GenerationFailed",
    "GenerationRequest",
    "MarkActivity",
    "Note",
    "Prefill",
    "PushAudio",
    "SamplingParams",
    "Send",
    "Speak",
    "SpeechAudio",
    "SpeechFinished",
    "SpeechSegment",
    "StartGeneration",
    "StopSpeech",
    "TextDelta",
    "UserSpeechEnded",
    "UserSpeechStarted",
    "UserTranscript",
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


@dataclass(frozen=True, slots=True)
class UserSpeechStarted:
    """Voice activity began (automatic detection) or audio started within a manual activity."""

    at: float


@dataclass(frozen=True, slots=True)
class UserSpeechEnded:
    at: float
    silence_s: float = 0.0
    """How long the silence that ended it lasted (endpointing delay)."""
    speech_s: float = 0.0
    """Length of the utterance handed to recognition."""


@dataclass(frozen=True, slots=True)
class UserTranscript:
    text: str
    final: bool
    asr_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SpeechSegment:
    """A synthesized piece of the reply is about to be released to the client."""

    turn_id: int
    text: str
    seconds: float
    start: float
    """When the client starts playing it (monotonic, the caller's clock)."""
    synth_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    turn_id: int
    data: bytes
    """PCM16 little-endian mono at 24 kHz."""


@dataclass(frozen=True, slots=True)
class SpeechFinished:
    turn_id: int
    remaining_s: float = 0.0


EngineEvent = (
    TextDelta
    | GenerationDone
    | GenerationFailed
    | UserSpeechStarted
    | UserSpeechEnded
    | UserTranscript
    | SpeechSegment
    | SpeechAudio
    | SpeechFinished
)


# ---- actions (outputs) ----


@dataclass(frozen=True, slots=True)
class Send:
    message: ServerMessage


@dataclass(frozen=True, slots=True)
class StartGeneration:
    request: GenerationRequest


@dataclass(frozen=True, slots=True)
class Prefill:
    """Read this prompt ahead of time (what the user is still saying): the reply that follows
    then only has to read the words that changed."""

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
class Speak:
    """Synthesize this text as the next piece of the reply."""

    turn_id: int
    text: str


@dataclass(frozen=True, slots=True)
class FinishSpeech:
    """No more text will come for this reply."""

    turn_id: int


@dataclass(frozen=True, slots=True)
class StopSpeech:
    turn_id: int


@dataclass(frozen=True, slots=True)
class MarkActivity:
    """Manual activity start/end, or ``audioStreamEnd`` (``close``)."""

    kind: Literal["open", "close"]


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth one log line (accepted-but-ignored fields, dropped parts, ...)."""

    message: str


Action = (
    Send
    | StartGeneration
    | Prefill
    | CancelGeneration
    | PushAudio
    | Speak
    | FinishSpeech
    | StopSpeech
    | MarkActivity
    | Close
    | Note
)
