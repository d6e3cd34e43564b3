"""What goes into and comes out of the session core.

Inputs: decoded client messages and engine events (below), each with a timestamp.
Outputs: actions for the session runtime to perform, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ContextOverflow
from ..types import ServerMessage

__all__ = [
    "Action",
    "AudioTarget",
    "BeginUtterance",
    "CancelGeneration",
    "CancelSpeculation",
    "ChatMessage",
    "Checkpoint",
    "Close",
    "EndUtterance",
    "EngineEvent",
    "Fault",
    "FinishSpeech",
    "FlushSpeech",
    "FunctionCallPart",
    "FunctionCalls",
    "FunctionResponsePart",
    "GenerationDone",
    "GenerationFailed",
    "GenerationRequest",
    "InjectFault",
    "InlinePart",
    "MessagePart",
    "Note",
    "Play",
    "Prefill",
    "PushAudio",
    "RecognizePartial",
    "SamplingParams",
    "ScoreTurn",
    "SeeFrame",
    "Send",
    "Speak",
    "Speculate",
    "SpeechAudio",
    "SpeechFinished",
    "SpeechFlushed",
    "SpeechReady",
    "StartGeneration",
    "StopSpeech",
    "StoreAudio",
    "TextDelta",
    "TextPart",
    "ToolSpec",
    "ToolTimeout",
    "TurnScore",
    "UserTranscript",
    "VoiceActivity",
    "WatchToolCalls",
]


# ---- what an engine is asked ----


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class InlinePart:
    """Inline bytes (an image, audio) with their MIME type."""

    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class FunctionCallPart:
    name: str
    args: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True, slots=True)
class FunctionResponsePart:
    name: str
    response: dict[str, Any]
    id: str | None = None


MessagePart = TextPart | InlinePart | FunctionCallPart | FunctionResponsePart


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of the conversation as an engine sees it: a role and typed parts."""

    role: Literal["user", "assistant"]
    parts: tuple[MessagePart, ...]

    def __post_init__(self) -> None:
        if isinstance(self.parts, str):
            raise TypeError("ChatMessage parts are a tuple of parts; use ChatMessage.of_text")

    @classmethod
    def of_text(cls, role: Literal["user", "assistant"], text: str) -> ChatMessage:
        return cls(role, (TextPart(text),))

    @property
    def text(self) -> str:
        """The text parts, joined (what a text-only engine reads)."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call: its name, description and JSON-schema parameters.
    ``blocking`` is False for a ``NON_BLOCKING`` function (the model goes on talking while it
    runs)."""

    name: str
    description: str = ""
    parameters: dict[str, Any] | None = None
    blocking: bool = True


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
    tools: tuple[ToolSpec, ...] = ()
    tool_mode: str = "AUTO"
    """``toolConfig.functionCallingConfig.mode``: AUTO, ANY (a call is required) or
    VALIDATED; with NONE no tools are offered at all."""
    continuation: str = ""
    """Text of the reply already delivered (a session restored mid-reply): the engine writes
    what comes after it, not the whole reply again."""
    media_resolution: str | None = None
    """``generationConfig.mediaResolution``: the resolution images are read at."""


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
    context_window: int = 0
    """The model's context window in tokens (0: the engine does not know it)."""


@dataclass(frozen=True, slots=True)
class GenerationFailed:
    turn_id: int
    message: str
    overflow: bool = False
    """The prompt did not fit the model's context window (nothing was generated)."""
    prompt_tokens: int = 0
    context_window: int = 0

    @classmethod
    def of(cls, turn_id: int, exc: Exception) -> GenerationFailed:
        """The event for an engine error (a :class:`ContextOverflow` keeps its counts)."""
        if isinstance(exc, ContextOverflow):
            return cls(turn_id, str(exc), True, exc.prompt_tokens, exc.context_window)
        return cls(turn_id, str(exc))


@dataclass(frozen=True, slots=True)
class FunctionCalls:
    """The model calls these functions (then its stream ends with ``GenerationDone``)."""

    turn_id: int
    calls: tuple[FunctionCallPart, ...]


@dataclass(frozen=True, slots=True)
class ToolTimeout:
    """The calls ``ids`` of ``turn_id`` were not answered within the server's tool timeout
    (``watch``: the :class:`WatchToolCalls` that started it)."""

    turn_id: int
    ids: tuple[str, ...]
    watch: int = 0


@dataclass(frozen=True, slots=True)
class VoiceActivity:
    """Speech probabilities of consecutive 32 ms frames of one input chunk (VAD output)."""

    probabilities: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SpeechFlushed:
    """Every audio chunk received before ``audioStreamEnd`` has gone through detection."""


@dataclass(frozen=True, slots=True)
class UserTranscript:
    utterance: int
    text: str
    final: bool
    asr_s: float = 0.0
    speculative: bool = False
    """An interim transcript of everything said, taken in a silence that may end the turn."""


@dataclass(frozen=True, slots=True)
class TurnScore:
    """The end-of-turn model's answer for ``utterance`` as it was at frame ``last_voice``:
    the probability that the user has finished (negative: no answer, the model is not
    available)."""

    utterance: int
    last_voice: int
    probability: float


@dataclass(frozen=True, slots=True)
class SpeechReady:
    """A piece of the reply has been synthesized: ``seconds`` of audio for ``text``."""

    turn_id: int
    text: str
    seconds: float
    synth_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    turn_id: int
    data: bytes
    """PCM16 little-endian mono at 24 kHz."""


@dataclass(frozen=True, slots=True)
class SpeechFinished:
    turn_id: int


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault the engine was asked to inject (the echo engine's ``[[fault ...]]``
    directives): ``goaway`` (``value``: seconds left), ``close`` (``value``: close code),
    ``stall`` (``value``: seconds without output), ``drop`` (the TCP connection)."""

    turn_id: int
    kind: str
    value: float = 0.0


EngineEvent = (
    Fault
    | TurnScore
    | TextDelta
    | FunctionCalls
    | ToolTimeout
    | GenerationDone
    | GenerationFailed
    | VoiceActivity
    | SpeechFlushed
    | UserTranscript
    | SpeechReady
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
    then only has to read the words that changed. ``speculative``: the transcript was taken in
    a silence that may end the turn, so the runtime may start writing the reply itself and
    hold it (the reply's request, when it comes, is the same one but for its turn id)."""

    request: GenerationRequest
    speculative: bool = False


@dataclass(frozen=True, slots=True)
class CancelGeneration:
    turn_id: int


@dataclass(frozen=True, slots=True)
class WatchToolCalls:
    """Start the tool timeout for these calls (answered with :class:`ToolTimeout` carrying the
    same ``watch``). A NON_BLOCKING call re-armed by a ``willContinue`` result gets a new
    ``watch``, so the timers started before it no longer count."""

    turn_id: int
    ids: tuple[str, ...]
    watch: int = 0


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class PushAudio:
    """Input audio for the voice stage: PCM16 little-endian mono at ``rate`` Hz. With automatic
    activity detection it goes through VAD (whose output returns as :class:`VoiceActivity`);
    with manual activity it is collected directly while an utterance is open."""

    data: bytes
    rate: int
    detect: bool


AudioTarget = Literal["prefix", "utterance"]


@dataclass(frozen=True, slots=True)
class StoreAudio:
    """Keep the chunk just detected as pre-speech padding or as part of the utterance."""

    target: AudioTarget


@dataclass(frozen=True, slots=True)
class BeginUtterance:
    """Start collecting utterance ``utterance`` (with the padding kept before it)."""

    utterance: int


@dataclass(frozen=True, slots=True)
class EndUtterance:
    """The utterance is complete: recognize it, answering with one final
    :class:`UserTranscript` (or reuse the speculative transcript, when ``reuse_speculation``)."""

    utterance: int
    reuse_speculation: bool = False


@dataclass(frozen=True, slots=True)
class ScoreTurn:
    """Ask the end-of-turn model whether the user has finished (the utterance so far, whose
    last voiced frame is ``last_voice``)."""

    utterance: int
    last_voice: int


@dataclass(frozen=True, slots=True)
class Speculate:
    """Recognize what was said so far, in case the silence that began holds."""

    utterance: int


@dataclass(frozen=True, slots=True)
class CancelSpeculation:
    utterance: int


@dataclass(frozen=True, slots=True)
class RecognizePartial:
    """Recognize what was said so far for an interim transcript."""

    utterance: int


@dataclass(frozen=True, slots=True)
class FlushSpeech:
    """Answer with :class:`SpeechFlushed` once the audio before this point was detected."""


@dataclass(frozen=True, slots=True)
class Speak:
    """Synthesize this text as the next piece of the reply."""

    turn_id: int
    text: str


@dataclass(frozen=True, slots=True)
class Play:
    """Release synthesized audio for ``turn_id`` at real-time pace from ``start`` (the
    caller's monotonic clock), as :class:`SpeechAudio` events."""

    turn_id: int
    start: float


@dataclass(frozen=True, slots=True)
class FinishSpeech:
    """No more text will come for this reply."""

    turn_id: int


@dataclass(frozen=True, slots=True)
class StopSpeech:
    turn_id: int


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth one log line (accepted-but-ignored fields, dropped parts, ...)."""

    message: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The session's state is worth keeping now (``resumable``: a resumed session can carry
    on from it), or it cannot be resumed until the next checkpoint (``resumable`` False).
    ``consumed``: how many client messages (setup excluded) the state includes."""

    resumable: bool
    consumed: int


@dataclass(frozen=True, slots=True)
class SeeFrame:
    """An image arrived (a ``realtimeInput`` frame or a ``clientContent`` image part): the
    runtime may decode and describe it ahead of the reply that will read it (dropping it when a
    newer one arrives first). ``where`` names the field, for an error's reason."""

    mime_type: str
    data: bytes
    where: str
    resolution: str | None = None


@dataclass(frozen=True, slots=True)
class InjectFault:
    """Perform a fault on the connection (see :class:`Fault`)."""

    kind: str
    value: float = 0.0


Action = (
    Checkpoint
    | ScoreTurn
    | SeeFrame
    | InjectFault
    | Send
    | StartGeneration
    | Prefill
    | CancelGeneration
    | PushAudio
    | StoreAudio
    | BeginUtterance
    | EndUtterance
    | Speculate
    | CancelSpeculation
    | RecognizePartial
    | FlushSpeech
    | Speak
    | Play
    | FinishSpeech
    | StopSpeech
    | WatchToolCalls
    | Close
    | Note
)
