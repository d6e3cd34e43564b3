"""The sans-I/O Live session: conversation state and turn rules in one place.

The machine takes decoded client messages, engine events and ticks (each stamped with a time
the caller supplies; no clock is read here) and returns the actions to perform. Its whole state
is a pydantic model that serializes to JSON and restores, mid-turn included.

Turn rules (spec §3, §8.1):

* ``clientContent`` turns are appended in order; ``turnComplete: true`` starts a reply.
* ``realtimeInput.text`` is a short utterance: it starts a reply at once (with automatic
  activity detection) or at ``activityEnd`` (with detection disabled).
* new client content during a reply interrupts it: ``interrupted``, then ``turnComplete``;
  only the text already sent to the client stays in the history. Realtime text does the same
  under ``START_OF_ACTIVITY_INTERRUPTS`` and waits for the reply to end under ``NO_INTERRUPTION``.
* a finished reply sends ``generationComplete`` then ``turnComplete`` with usage metadata.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..errors import InvalidArgument, ServerFault, SessionError
from ..types import (
    Blob,
    ClientContent,
    ClientMessage,
    Content,
    ContextUpdate,
    ModalityTokenCount,
    Part,
    RealtimeInput,
    ServerContent,
    ServerMessage,
    Setup,
    SetupComplete,
    ToolResponse,
    Transcription,
    UsageMetadata,
)
from .events import (
    Action,
    CancelGeneration,
    ChatMessage,
    Close,
    EngineEvent,
    FinishSpeech,
    GenerationDone,
    GenerationFailed,
    GenerationRequest,
    MarkActivity,
    Note,
    Prefill,
    PushAudio,
    SamplingParams,
    Send,
    Speak,
    SpeechAudio,
    SpeechFinished,
    SpeechSegment,
    StartGeneration,
    StopSpeech,
    TextDelta,
    UserSpeechEnded,
    UserSpeechStarted,
    UserTranscript,
)
from .features import review_setup
from .speech_text import clean_for_speech, split_speakable

__all__ = ["ActiveTurn", "LiveSession", "SessionState", "SpokenPart", "parse_pcm_rate"]

OUTPUT_MIME = "audio/pcm;rate=24000"


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
    spoken: list[SpokenPart] = []
    speech_requested: bool = False
    llm_done: bool = False
    prompt_tokens: int = 0
    output_tokens: int = 0


class SessionState(BaseModel):
    """Everything the session knows; JSON in, JSON out."""

    session_id: str
    model: str
    setup: Setup
    history: list[Content] = []
    turn: ActiveTurn | None = None
    next_turn_id: int = 1
    pending_reply: bool = False
    """A reply is owed once the current one ends (realtime text under NO_INTERRUPTION)."""
    activity_open: bool = False
    activity_text: list[str] = []
    activity_audio: bool = False
    awaiting_transcript: bool = False
    notes_given: list[str] = []
    audio_bytes_in: int = 0
    video_frames_in: int = 0
    messages_in: int = 0
    closed: Literal[False, True] = False
    prompt_tokens_total: int = 0
    output_tokens_total: int = 0
    created_at: float = 0.0
    last_activity_at: float = 0.0
    extra: dict[str, str] = Field(default_factory=dict)


def parse_pcm_rate(mime_type: str | None) -> int:
    """Sample rate of a ``audio/pcm`` MIME type (16 kHz when absent); 1007 for anything else."""
    if not mime_type:
        return 16000
    main, *params = (p.strip() for p in mime_type.split(";"))
    if main.lower() not in ("audio/pcm", "audio/l16", "audio/x-raw"):
        raise InvalidArgument(
            f"audio MIME type {mime_type!r} is not supported; send audio/pcm;rate=16000 "
            "(16-bit little-endian mono PCM)"
        )
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "rate":
            try:
                rate = int(value.strip())
            except ValueError:
                raise InvalidArgument(f"audio MIME type {mime_type!r} has a bad rate") from None
            if not 8000 <= rate <= 192000:
                raise InvalidArgument(f"audio sample rate {rate} is out of range (8000-192000)")
            return rate
    return 16000


class LiveSession:
    """One Live session's state machine. Create it from a setup, then feed it inputs."""

    def __init__(self, state: SessionState) -> None:
        self.state = state

    # ---- construction and persistence ----

    @classmethod
    def create(cls, session_id: str, model: str, setup: Setup, now: float) -> LiveSession:
        """Validate ``setup`` (raises :class:`SessionError`) and build a fresh session."""
        state = SessionState(
            session_id=session_id, model=model, setup=setup, created_at=now, last_activity_at=now
        )
        return cls(state)

    def start(self) -> list[Action]:
        """The first actions: notes for accepted-but-unused fields, then ``setupComplete``."""
        actions: list[Action] = [Note(n) for n in review_setup(self.state.setup)]
        sc = SetupComplete(session_id=self.state.session_id)
        actions.append(Send(ServerMessage(setup_complete=sc)))
        return actions

    def to_json(self) -> str:
        return self.state.model_dump_json(by_alias=False)

    @classmethod
    def from_json(cls, data: str | bytes) -> LiveSession:
        return cls(SessionState.model_validate_json(data))

    @property
    def generating(self) -> bool:
        return self.state.turn is not None

    @property
    def modalities(self) -> list[str]:
        gc = self.state.setup.generation_config
        return (gc.response_modalities if gc else None) or ["AUDIO"]

    @property
    def speaks(self) -> bool:
        return "AUDIO" in self.modalities

    @property
    def writes(self) -> bool:
        return "TEXT" in self.modalities

    # ---- inputs ----

    def receive_client(self, message: ClientMessage, now: float) -> list[Action]:
        """A decoded client message. Errors become a ``Close`` action; nothing is raised."""
        self.state.messages_in += 1
        self.state.last_activity_at = now
        try:
            if message.setup is not None:
                raise InvalidArgument("setup may only be sent once, as the first message")
            if message.client_content is not None:
                return self._client_content(message.client_content, now)
            if message.realtime_input is not None:
                return self._realtime_input(message.realtime_input, now)
            if message.tool_response is not None:
                return self._tool_response(message.tool_response)
            if message.context_update is not None:
                return self._context_update(message.context_update)
            return []
        except SessionError as exc:
            return self.fail(exc)

    def receive_engine(self, event: EngineEvent, now: float) -> list[Action]:
        """An event from the engine; events of a turn that already ended are ignored."""
        if isinstance(event, UserSpeechStarted):
            return self._speech_started(event.at)
        if isinstance(event, UserSpeechEnded):
            return []
        if isinstance(event, UserTranscript):
            return self._transcript(event, now)
        turn = self.state.turn
        if turn is None or event.turn_id != turn.turn_id:
            return []
        if isinstance(event, TextDelta):
            return self._text_delta(turn, event.text, now)
        if isinstance(event, GenerationDone):
            return self._generation_done(turn, event, now)
        if isinstance(event, SpeechSegment):
            turn.spoken.append(
                SpokenPart(text=event.text, seconds=event.seconds, start=event.start)
            )
            if self.state.setup.output_audio_transcription is not None:
                sc = ServerContent(output_transcription=Transcription(text=event.text))
                return [Send(ServerMessage(server_content=sc))]
            return []
        if isinstance(event, SpeechAudio):
            part = Part(inline_data=Blob(mime_type=OUTPUT_MIME, data=event.data))
            turn_content = Content(role="model", parts=[part])
            return [Send(ServerMessage(server_content=ServerContent(model_turn=turn_content)))]
        if isinstance(event, SpeechFinished):
            return self._complete(turn, now)
        assert isinstance(event, GenerationFailed)
        return self.fail(ServerFault(f"model failed: {event.message}"))

    def _text_delta(self, turn: ActiveTurn, text: str, now: float) -> list[Action]:
        if not text:
            return []
        turn.sent_text += text
        if turn.first_text_at is None:
            turn.first_text_at = now
        actions: list[Action] = []
        if self.writes:
            actions.append(Send(_model_text(text)))
        if self.speaks:
            turn.unspoken += text
            pieces, turn.unspoken = split_speakable(turn.unspoken, not turn.speech_requested)
            for piece in pieces:
                turn.speech_requested = True
                actions.append(Speak(turn.turn_id, piece))
        return actions

    def _generation_done(self, turn: ActiveTurn, done: GenerationDone, now: float) -> list[Action]:
        turn.llm_done = True
        turn.prompt_tokens = done.prompt_tokens
        turn.output_tokens = done.output_tokens
        if not self.speaks:
            return self._complete(turn, now)
        actions: list[Action] = []
        rest = clean_for_speech(turn.unspoken)
        turn.unspoken = ""
        if rest:
            actions.append(Speak(turn.turn_id, rest))
        actions.append(FinishSpeech(turn.turn_id))
        return actions

    def tick(self, now: float) -> list[Action]:
        """Time passing. Nothing in text sessions is timed yet; kept so adapters tick uniformly."""
        del now
        return []

    def fail(self, exc: SessionError) -> list[Action]:
        """End the session with the error's close code and reason."""
        actions: list[Action] = []
        if self.state.turn is not None:
            actions.append(CancelGeneration(self.state.turn.turn_id))
            actions.append(StopSpeech(self.state.turn.turn_id))
            self.state.turn = None
        self.state.closed = True
        actions.append(Close(exc.code, exc.reason))
        return actions

    def client_closed(self, now: float = 0.0) -> list[Action]:
        """The client went away: stop any reply (what was delivered stays in the history)."""
        actions: list[Action] = []
        if self.state.turn is not None:
            actions.extend(self._interrupt(send=False, now=now))
        self.state.closed = True
        return actions

    # ---- message handlers ----

    def _client_content(self, cc: ClientContent, now: float) -> list[Action]:
        actions: list[Action] = []
        if self.state.turn is not None and (cc.turns or cc.turn_complete):
            actions.extend(self._interrupt(send=True, now=now))
        for turn in cc.turns or []:
            actions.extend(self._append(turn))
        if cc.turn_complete:
            actions.extend(self._begin_reply(now))
        return actions

    def _realtime_input(self, ri: RealtimeInput, now: float) -> list[Action]:
        auto = self._auto_activity()
        actions: list[Action] = []
        blobs: list[tuple[str, Blob]] = []
        if ri.audio is not None:
            blobs.append(("audio", ri.audio))
        if ri.video is not None:
            blobs.append(("video", ri.video))
        if ri.media_chunks:
            blobs.append(("media", ri.media_chunks[0]))
        for kind, blob in blobs:
            actions.extend(self._media(kind, blob))
        if ri.activity_start is not None:
            if auto:
                raise InvalidArgument(
                    "activityStart needs realtimeInputConfig.automaticActivityDetection."
                    "disabled=true"
                )
            self.state.activity_open = True
            self.state.activity_audio = False
            actions.append(MarkActivity("open"))
            if self.state.turn is not None and self._barge_in():
                actions.extend(self._interrupt(send=True, now=now))
        if ri.text is not None and ri.text != "":
            if auto:
                actions.extend(self._utterance(ri.text, now))
            else:
                self.state.activity_text.append(ri.text)
        if ri.activity_end is not None:
            if auto:
                raise InvalidArgument(
                    "activityEnd needs realtimeInputConfig.automaticActivityDetection.disabled=true"
                )
            self.state.activity_open = False
            if self.state.activity_audio:
                # the transcript of the activity's audio completes the turn
                self.state.awaiting_transcript = True
                actions.append(MarkActivity("close"))
            else:
                text = " ".join(self.state.activity_text)
                self.state.activity_text = []
                if text:
                    actions.extend(self._utterance(text, now))
        if ri.audio_stream_end:
            if auto:
                actions.append(MarkActivity("close"))
            else:
                actions.extend(self._note("audioStreamEnd is ignored with manual activity"))
        return actions

    def _media(self, kind: str, blob: Blob) -> list[Action]:
        mime = (blob.mime_type or "").lower()
        if kind == "audio" or (kind == "media" and (not mime or mime.startswith("audio/"))):
            rate = parse_pcm_rate(blob.mime_type)
            self.state.audio_bytes_in += len(blob.data)
            if not self._auto_activity():
                if not self.state.activity_open:
                    return self._note("audio outside activityStart/activityEnd is ignored")
                self.state.activity_audio = True
            return [PushAudio(blob.data, rate)]
        if mime.startswith(("image/", "video/")) or kind == "video":
            self.state.video_frames_in += 1
            return self._note(f"video frames are accepted but not seen by {self.state.model}")
        raise InvalidArgument(f"realtimeInput MIME type {blob.mime_type!r} is not supported")

    def _tool_response(self, tr: ToolResponse) -> list[Action]:
        ids = [r.id or r.name for r in tr.function_responses or []]
        raise InvalidArgument(
            f"toolResponse for {', '.join(ids) or 'nothing'}: no tool call is pending"
        )

    def _context_update(self, cu: ContextUpdate) -> list[Action]:
        if cu.tools and not all(t.is_empty() for t in cu.tools):
            raise InvalidArgument("contextUpdate.tools is not supported by openlive yet; remove it")
        if cu.system_instruction is not None:
            self.state.setup = self.state.setup.model_copy(
                update={"system_instruction": cu.system_instruction}
            )
        return []

    # ---- turn mechanics ----

    def _auto_activity(self) -> bool:
        ric = self.state.setup.realtime_input_config
        aad = ric.automatic_activity_detection if ric else None
        return not (aad and aad.disabled)

    def _barge_in(self) -> bool:
        ric = self.state.setup.realtime_input_config
        return not (ric and ric.activity_handling == "NO_INTERRUPTION")

    def _utterance(self, text: str, now: float) -> list[Action]:
        actions: list[Action] = []
        if self.state.turn is not None:
            if not self._barge_in():
                self.state.history.append(Content(role="user", parts=[Part(text=text)]))
                self.state.pending_reply = True
                return actions
            actions.extend(self._interrupt(send=True, now=now))
        self.state.history.append(Content(role="user", parts=[Part(text=text)]))
        actions.extend(self._begin_reply(now))
        return actions

    def _speech_started(self, at: float) -> list[Action]:
        if self.state.turn is not None and self._auto_activity() and self._barge_in():
            return self._interrupt(send=True, now=at)
        return []

    def _transcript(self, event: UserTranscript, now: float) -> list[Action]:
        actions: list[Action] = []
        wants = self.state.setup.input_audio_transcription is not None
        if not event.final:
            if event.text and self.state.turn is None:
                actions.append(Prefill(self._request(0, pending_user=event.text)))
            if wants and event.text:
                sc = ServerContent(interim_input_transcription=Transcription(text=event.text))
                actions.append(Send(ServerMessage(server_content=sc)))
            return actions
        text = event.text.strip()
        if wants and text:
            sc = ServerContent(input_transcription=Transcription(text=text, finished=True))
            actions.append(Send(ServerMessage(server_content=sc)))
        if self.state.awaiting_transcript:
            self.state.awaiting_transcript = False
            text = " ".join([*self.state.activity_text, text]).strip()
            self.state.activity_text = []
        if text:
            actions.extend(self._utterance(text, now))
        return actions

    def _append(self, turn: Content) -> list[Action]:
        actions: list[Action] = []
        role = "model" if turn.role == "model" else "user"
        parts: list[Part] = []
        for part in turn.parts:
            if part.text is not None:
                parts.append(Part(text=part.text))
            elif part.inline_data is not None or part.file_data is not None:
                mime = (part.inline_data or part.file_data).mime_type  # type: ignore[union-attr]
                actions.extend(
                    self._note(f"{mime or 'binary'} parts are not seen by the text model")
                )
            else:
                actions.extend(self._note("non-text history parts are kept as text placeholders"))
                parts.append(Part(text=_describe_part(part)))
        self.state.history.append(Content(role=role, parts=parts))
        return actions

    def _begin_reply(self, now: float) -> list[Action]:
        turn_id = self.state.next_turn_id
        self.state.next_turn_id += 1
        self.state.turn = ActiveTurn(turn_id=turn_id, started_at=now)
        self.state.pending_reply = False
        return [StartGeneration(self._request(turn_id))]

    def _interrupt(self, *, send: bool, now: float | None) -> list[Action]:
        """Stop the reply. The history keeps what the user got: the text sent, or for speech
        what they had time to hear by ``now`` at real-time pace (``None``: what was released)."""
        turn = self.state.turn
        assert turn is not None
        self.state.turn = None
        kept = _heard(turn, now) if self.speaks else turn.sent_text
        if kept.strip():
            self.state.history.append(Content(role="model", parts=[Part(text=kept)]))
        actions: list[Action] = [CancelGeneration(turn.turn_id)]
        if self.speaks:
            actions.append(StopSpeech(turn.turn_id))
        if send:
            actions.append(Send(ServerMessage(server_content=ServerContent(interrupted=True))))
            actions.append(Send(ServerMessage(server_content=ServerContent(turn_complete=True))))
        return actions

    def _complete(self, turn: ActiveTurn, now: float) -> list[Action]:
        self.state.turn = None
        self.state.history.append(Content(role="model", parts=[Part(text=turn.sent_text)]))
        self.state.prompt_tokens_total += turn.prompt_tokens
        self.state.output_tokens_total += turn.output_tokens
        prompt, output = turn.prompt_tokens, turn.output_tokens
        usage = UsageMetadata(
            prompt_token_count=prompt,
            response_token_count=output,
            total_token_count=prompt + output,
            prompt_tokens_details=[ModalityTokenCount(modality="TEXT", token_count=prompt)],
            response_tokens_details=[
                ModalityTokenCount(modality="AUDIO" if self.speaks else "TEXT", token_count=output)
            ],
        )
        actions: list[Action] = [
            Send(ServerMessage(server_content=ServerContent(generation_complete=True))),
            Send(
                ServerMessage(
                    server_content=ServerContent(turn_complete=True), usage_metadata=usage
                )
            ),
        ]
        if self.state.pending_reply:
            actions.extend(self._begin_reply(now))
        return actions

    def _request(self, turn_id: int, pending_user: str | None = None) -> GenerationRequest:
        setup = self.state.setup
        gc = setup.generation_config
        params = SamplingParams()
        if gc is not None:
            params = SamplingParams(
                temperature=gc.temperature,
                top_p=gc.top_p,
                top_k=gc.top_k,
                max_tokens=gc.max_output_tokens,
                seed=gc.seed,
                presence_penalty=gc.presence_penalty,
                frequency_penalty=gc.frequency_penalty,
                stop=tuple(gc.stop_sequences or ()),
            )
        messages = tuple(
            ChatMessage(role="assistant" if c.role == "model" else "user", text=c.text)
            for c in self.state.history
        )
        if pending_user is not None:
            messages += (ChatMessage(role="user", text=pending_user),)
        return GenerationRequest(
            session_id=self.state.session_id,
            turn_id=turn_id,
            system=setup.instruction_text(),
            messages=messages,
            params=params,
        )

    def _note(self, message: str) -> list[Action]:
        if message in self.state.notes_given:
            return []
        self.state.notes_given.append(message)
        return [Note(message)]


def _heard(turn: ActiveTurn, now: float | None) -> str:
    """The part of a spoken reply played by ``now`` (words of a piece cut in proportion)."""
    heard: list[str] = []
    for part in turn.spoken:
        if now is None or part.start + part.seconds <= now:
            heard.append(part.text)
        elif part.start < now and part.seconds > 0:
            words = part.text.split()
            share = (now - part.start) / part.seconds
            heard.append(" ".join(words[: int(len(words) * share)]))
            break
        else:
            break
    return " ".join(h for h in heard if h)


def _model_text(text: str) -> ServerMessage:
    turn = Content(role="model", parts=[Part(text=text)])
    return ServerMessage(server_content=ServerContent(model_turn=turn))


def _describe_part(part: Part) -> str:
    if part.function_call is not None:
        return f"[called {part.function_call.name}({part.function_call.args or {}})]"
    if part.function_response is not None:
        fr = part.function_response
        return f"[{fr.name} returned {fr.response or {}}]"
    if part.executable_code is not None:
        return part.executable_code.code
    if part.code_execution_result is not None:
        return part.code_execution_result.output or ""
    return ""
