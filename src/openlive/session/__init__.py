"""The sans-I/O session core: state machine, its inputs and its actions."""

from .events import (
    Action,
    CancelGeneration,
    ChatMessage,
    Close,
    EngineEvent,
    GenerationDone,
    GenerationFailed,
    GenerationRequest,
    Note,
    PushAudio,
    SamplingParams,
    Send,
    StartGeneration,
    TextDelta,
)
from .features import FIELD_TREATMENT, Treatment, review_setup
from .machine import ActiveTurn, LiveSession, SessionState, parse_pcm_rate

__all__ = [
    "FIELD_TREATMENT",
    "Action",
    "ActiveTurn",
    "CancelGeneration",
    "ChatMessage",
    "Close",
    "EngineEvent",
    "GenerationDone",
    "GenerationFailed",
    "GenerationRequest",
    "LiveSession",
    "Note",
    "PushAudio",
    "SamplingParams",
    "Send",
    "SessionState",
    "StartGeneration",
    "TextDelta",
    "Treatment",
    "parse_pcm_rate",
    "review_setup",
]
