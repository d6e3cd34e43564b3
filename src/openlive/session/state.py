"""A Live session's whole state: plain pydantic models that serialize to JSON and back.

Everything the session knows lives here, so a snapshot taken at any instant (mid-speech,
mid-generation, mid-playback) restores into a fresh runtime that carries on. Audio samples are
not part of it: they stay in the runtime's buffers, and a restored session starts collecting
afresh (see ``LiveSession.resume``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..types import Blob, Content, FunctionResponse, Setup
from .activity import EndpointState

__all__ = [
    "ActiveTurn",
    "BackgroundCall",
    "DeferredResult",
    "SessionState",
    "SpokenPart",
    "VisionState",
    "VoiceState",
    "WindowState",
]


class SpokenPart(BaseModel):
    text: str
    seconds: float
    start: float


class ActiveTurn(BaseModel):
    turn_id: int
    started_at: float
    sent_text: str = ""
    """Everything the model wrote so far (text sessions: everything sent)."""
    first_text_at: float | None = None
    unspoken: str = ""
    """Text written but not yet cut into a piece to speak."""
    speaking: list[str] = []
    """Pieces handed to synthesis and not yet ready, in order."""
    spoken: list[SpokenPart] = []
    speech_requested: bool = False
    llm_done: bool = False
    calls: dict[str, str] = {}
    """BLOCKING function calls awaiting their toolResponse: id -> name."""
    rounds: int = 1
    made: list[str] = []
    """Calls made in this turn (name and arguments): the same call again is not sent."""
    repeated: bool = False
    """The model repeated a call of this turn; ``words_only`` then follows."""
    words_only: bool = False
    """Later rounds of this turn are offered no functions: the model answers in words."""
    """Generation rounds of this turn so far (a round follows answered calls)."""
    started_background: bool = False
    """The current round started NON_BLOCKING calls: the turn goes on with another round
    (the model says what it is doing) rather than ending with it."""
    prompt_tokens: int = 0
    output_tokens: int = 0
    image_tokens: int = 0
    """Images in the prompt, counted at the per-image rate (``seeing.image_tokens``)."""


class BackgroundCall(BaseModel):
    """A NON_BLOCKING function call still running (its result, or more of them, to come)."""

    name: str
    turn_id: int
    """The turn that made the call (interrupting that turn cancels it)."""
    watch: int = 0
    """Which tool timer counts for it (raised by every ``willContinue`` result)."""


class DeferredResult(BaseModel):
    """A NON_BLOCKING result that waits for the current turn to end before joining the
    history; ``reply``: a reply follows then (``WHEN_IDLE``), or not (``SILENT``)."""

    response: FunctionResponse
    reply: bool


class VoiceState(BaseModel):
    """The input side of voice: endpointing, the utterance being collected, the transcripts
    owed, and the speculative and interim recognitions in flight."""

    endpoint: EndpointState = Field(default_factory=EndpointState)
    utterance: int = 0
    """Id of the current (or last) utterance."""
    collecting: bool = False
    collected_s: float = 0.0
    partial_at_s: float = 0.0
    partial_pending: bool = False
    speculated_voice: int = -1
    """``endpoint.last_voice`` when the running speculative recognition began (-1: none)."""
    semantic: bool = False
    """The runtime can run the end-of-turn model (set when the session is made)."""
    scored_voice: int = -1
    """``endpoint.last_voice`` when the end-of-turn model was last asked (-1: not asked)."""
    scored_at_ms: int = 0
    """How far into that silence it was asked."""
    score_pending: bool = False
    finished_voice: int = -1
    """``endpoint.last_voice`` the end-of-turn model said was the end (-1: none yet)."""
    heard_voice: int = -1
    """``endpoint.last_voice`` whose speculative transcript is in (-1: none yet)."""
    paused_voice: int = -1
    """``endpoint.last_voice`` where the transcript taken in the silence stops on a word no
    utterance ends on ("a table for"): the model's "finished" does not end the turn there."""
    recognizing: list[int] = []
    """Utterances whose final transcript is owed."""
    transcribed: bool = False
    """An input transcription was sent (later ones start with a space)."""


class VisionState(BaseModel):
    """Image frames streamed in (``realtimeInput.video``, image ``mediaChunks``) that no turn
    has read yet, and the limits the runtime set."""

    frames: list[Blob] = Field(default_factory=list, exclude=True)
    """The latest frames since the last user turn, oldest first, at most ``max_frames``. Not
    in snapshots (up to ``max_frames`` images at every checkpoint): a resumed session waits
    for the next frame."""
    max_frames: int = 4
    """Frames held between turns (older ones are dropped as newer ones arrive)."""
    per_turn: int = 1
    """Frames a user turn takes with it (the latest; ``TURN_INCLUDES_ALL_INPUT``: all held)."""
    max_frame_bytes: int = 10 * 1024 * 1024
    received: int = 0
    """Frames received in the session."""
    last_digest: str = ""
    """Digest of the last frame a turn took (an unchanged screen is not added again)."""


class WindowState(BaseModel):
    """What the session knows of its context's size (rules: :mod:`openlive.session.window`)."""

    context_window: int = 0
    """The model's context window in tokens, as the engine reported it (0: not yet known)."""
    overhead: int = 0
    """Prompt tokens that are not history: system instruction, tools, chat template."""
    sizes: list[int] = []
    """Tokens each history entry adds to the prompt (same order as the history)."""
    measured: int = 0
    """How many leading ``sizes`` come from an engine's count (the rest are estimates)."""
    ratio: float = 0.25
    """Tokens per character of history, learned from the engine's counts (for estimates)."""
    asked: int = 0
    """History entries in the current round's request."""
    retried: list[int] = []
    """``[turn_id, round]`` last generated again after the prompt overflowed."""
    dropped_turns: int = 0
    """Turns dropped so far by compression."""


class SessionState(BaseModel):
    """Everything the session knows; JSON in, JSON out."""

    session_id: str
    model: str
    setup: Setup
    history: list[Content] = []
    turn: ActiveTurn | None = None
    next_turn_id: int = 1
    next_call_id: int = 1
    consumed: int = 0
    """Client messages taken in so far, setup excluded, across every connection of the
    session (``lastConsumedClientMessageIndex`` is this minus one)."""
    revision: int = 0
    """Counts changes of configuration (context updates) for resumption checkpoints."""
    pending_reply: bool = False
    """A reply is owed once the current one ends (realtime text under NO_INTERRUPTION)."""
    background: dict[str, BackgroundCall] = {}
    """NON_BLOCKING calls still running, by id (they outlive the turn that made them)."""
    deferred: list[DeferredResult] = []
    """NON_BLOCKING results that arrived during a turn, added to the history when it ends."""
    activity_open: bool = False
    activity_text: list[str] = []
    activity_audio: bool = False
    awaiting_transcript: bool = False
    voice: VoiceState = Field(default_factory=VoiceState)
    playback_end: float = 0.0
    """When the client will have played all reply audio released so far (caller's clock)."""
    vision: VisionState = Field(default_factory=VisionState)
    window: WindowState = Field(default_factory=WindowState)
    """The context's size in tokens, for ``contextWindowCompression`` and overflow."""
    closed: Literal[False, True] = False
