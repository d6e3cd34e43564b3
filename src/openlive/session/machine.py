"""The sans-I/O Live session: conversation state and turn rules in one place.

The machine takes decoded client messages and engine events (each stamped with a time
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

Function calls (spec §8.3) follow the rules of :mod:`openlive.session.calling` (BLOCKING and
NON_BLOCKING calls, scheduling, ``willContinue``, timeouts, cancellation), mixed in as
:class:`~openlive.session.calling.Calling`; listening is :mod:`openlive.session.listening`.
"""

from __future__ import annotations

import functools

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
    Transcription,
    UsageMetadata,
)
from .calling import MAX_ROUNDS, Calling
from .events import (
    Action,
    BeginUtterance,
    CancelGeneration,
    ChatMessage,
    Close,
    EndUtterance,
    EngineEvent,
    Fault,
    FinishSpeech,
    FlushSpeech,
    FunctionCallPart,
    FunctionCalls,
    FunctionResponsePart,
    GenerationDone,
    GenerationFailed,
    GenerationRequest,
    InjectFault,
    InlinePart,
    MessagePart,
    Note,
    Play,
    Prefill,
    PushAudio,
    SamplingParams,
    Send,
    Speak,
    SpeechAudio,
    SpeechFinished,
    SpeechFlushed,
    SpeechReady,
    StartGeneration,
    StopSpeech,
    TextDelta,
    TextPart,
    ToolTimeout,
    TurnScore,
    UserTranscript,
    VoiceActivity,
    WatchToolCalls,
)
from .features import response_modalities, review_setup
from .listening import Listening
from .resumption import Resumption
from .seeing import Seeing
from .speech_text import clean_for_speech, split_speakable
from .state import ActiveTurn, SessionState, SpokenPart
from .tools import allowed_tools, declared_tools
from .window import Window

__all__ = ["MAX_ROUNDS", "LiveSession", "parse_pcm_rate"]

OUTPUT_MIME = "audio/pcm;rate=24000"


@functools.lru_cache(maxsize=64)  # the same few strings on every chunk; errors are not kept
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


class LiveSession(Listening, Calling, Resumption, Window, Seeing):
    """One Live session's state machine. Create it from a setup, then feed it inputs. Once
    closed (``fail`` or ``client_closed``) it ignores every input: nothing more is generated,
    synthesized or sent."""

    def __init__(self, state: SessionState) -> None:
        self.state = state
        self._setup_notes: list[str] = []
        self._resumed = False
        self.first_piece = "clause"
        """How the first spoken piece of a reply is cut (a server setting, not session state:
        see :data:`~openlive.session.speech_text.FIRST_PIECE_RULES`)."""

    # ---- construction and persistence ----

    @classmethod
    def create(cls, session_id: str, model: str, setup: Setup, now: float) -> LiveSession:
        """Validate ``setup`` (raises :class:`SessionError`) and build a fresh session."""
        notes = review_setup(setup)
        allowed_tools(setup, declared_tools(setup.tools))  # 1007 for a bad declaration
        del now  # the core reads no clock; nothing in a new session is timed yet
        state = SessionState(session_id=session_id, model=model, setup=setup)
        session = cls(state)
        session._setup_notes = notes
        return session

    @classmethod
    def restore(cls, snapshot: str | bytes, setup: Setup) -> LiveSession:
        """A session kept at a resumption checkpoint, taken up by a new connection whose
        setup is ``setup``: everything carries on as it was (history, configuration, calls
        owed, voice), with the new connection's resumption options."""
        session = cls.from_json(snapshot)
        if setup.session_resumption is not None:
            session._adopt_resumption(setup.session_resumption)
        session._resumed = True
        return session

    def start(self, now: float = 0.0) -> list[Action]:
        """The first actions: notes for accepted-but-unused fields, then ``setupComplete``
        (and for a restored session, the work it had in flight)."""
        actions: list[Action] = [Note(n) for n in self._setup_notes]
        sc = SetupComplete(session_id=self.state.session_id)
        actions.append(Send(ServerMessage(setup_complete=sc)))
        if self._resumed:
            actions.extend(self.resume(now))
        return actions + self._checkpoints()

    def to_json(self) -> str:
        return self.state.model_dump_json(by_alias=False)

    @classmethod
    def from_json(cls, data: str | bytes) -> LiveSession:
        return cls(SessionState.model_validate_json(data))

    def resume(self, now: float) -> list[Action]:
        """Actions that restart, in a fresh runtime, the work a snapshot had in flight.

        * an utterance being collected goes on being collected (the audio before the snapshot
          stayed with the old runtime);
        * transcripts owed for audio that stayed with the old runtime are given up, and a
          manual activity waiting for one completes with its text;
        * a reply still being written is continued after the text already delivered, and
          pieces not yet synthesized are synthesized again;
        * the tool timeout restarts for every call still owed, BLOCKING or NON_BLOCKING.
        """
        if self.state.closed:
            return []
        v = self.state.voice
        actions: list[Action] = []
        if v.collecting:
            v.utterance += 1
            v.speculated_voice = -1
            v.partial_pending = v.score_pending = False  # their answers went with the old runtime
            actions.append(BeginUtterance(v.utterance))
        v.recognizing = []
        if self.state.awaiting_transcript:
            self.state.awaiting_transcript = False
            text = " ".join(self.state.activity_text).strip()
            self.state.activity_text = []
            if text:
                actions.extend(self._utterance(text, now))
        turn = self.state.turn
        if turn is not None:
            if not turn.llm_done:
                # the restarted round already sees the background calls' placeholders
                turn.started_background = False
                request = self._request(turn.turn_id, continuation=turn.sent_text)
                actions.append(StartGeneration(request))
            if turn.calls:
                actions.append(WatchToolCalls(turn.turn_id, tuple(turn.calls)))
            if self.speaks:
                actions.extend(Speak(turn.turn_id, piece) for piece in turn.speaking)
                if turn.llm_done and not turn.calls:
                    actions.append(FinishSpeech(turn.turn_id))
        for call_id, call in self.state.background.items():
            actions.append(WatchToolCalls(call.turn_id, (call_id,), call.watch))
        return actions

    @property
    def generating(self) -> bool:
        return self.state.turn is not None

    @property
    def modalities(self) -> list[str]:
        return response_modalities(self.state.setup)

    @property
    def automatic_activity(self) -> bool:
        """Voice activity detection decides turns (not the client's activity markers)."""
        return self._auto_activity()

    @property
    def speaks(self) -> bool:
        return "AUDIO" in self.modalities

    @property
    def writes(self) -> bool:
        return "TEXT" in self.modalities

    # ---- inputs ----

    def receive_client(self, message: ClientMessage, now: float) -> list[Action]:
        """A decoded client message. Errors become a ``Close`` action; nothing is raised."""
        if self.state.closed:
            return []
        self.state.consumed += 1
        actions = self._receive_client(message, now)
        return actions + self._checkpoints()

    def receive_engine(self, event: EngineEvent, now: float) -> list[Action]:
        """An event from the engine; events of a turn or utterance that already ended are
        ignored, and so is everything once the session is closed."""
        if self.state.closed:
            return []
        if isinstance(event, Fault):
            return [InjectFault(event.kind, event.value)]
        return self._receive_engine(event, now) + self._checkpoints()

    def _receive_client(self, message: ClientMessage, now: float) -> list[Action]:
        try:
            if message.setup is not None:
                raise InvalidArgument("setup may only be sent once, as the first message")
            if message.client_content is not None:
                return self._client_content(message.client_content, now)
            if message.realtime_input is not None:
                return self._realtime_input(message.realtime_input, now)
            if message.tool_response is not None:
                return self._tool_response(message.tool_response, now)
            if message.context_update is not None:
                return self._context_update(message.context_update)
            return []
        except SessionError as exc:
            return self.fail(exc)

    def _receive_engine(self, event: EngineEvent, now: float) -> list[Action]:
        if isinstance(event, VoiceActivity):
            return self._voice_activity(event.probabilities, now)
        if isinstance(event, TurnScore):
            return self._turn_score(event)
        if isinstance(event, SpeechFlushed):
            return self._flushed()
        if isinstance(event, UserTranscript):
            return self._transcript(event, now)
        if isinstance(event, ToolTimeout):
            return self._tool_timeout(event, now)
        turn = self.state.turn
        if turn is None or event.turn_id != turn.turn_id:
            return []
        if isinstance(event, TextDelta):
            return self._text_delta(turn, event.text, now)
        if isinstance(event, FunctionCalls):
            return self._function_calls(turn, event)
        if isinstance(event, GenerationDone):
            return self._generation_done(turn, event, now)
        if isinstance(event, SpeechReady):
            return self._speech_ready(turn, event, now)
        if isinstance(event, SpeechAudio):
            part = Part(inline_data=Blob(mime_type=OUTPUT_MIME, data=event.data))
            turn_content = Content(role="model", parts=[part])
            return [Send(ServerMessage(server_content=ServerContent(model_turn=turn_content)))]
        if isinstance(event, SpeechFinished):
            return self._complete(turn, now)
        assert isinstance(event, GenerationFailed)
        if event.overflow:  # the prompt did not fit: compress and retry, or close
            return self._overflow(turn, event)
        return self.fail(ServerFault(f"model failed: {event.message}"))

    def fail(self, exc: SessionError) -> list[Action]:
        """End the session with the error's close code and reason (once)."""
        if self.state.closed:
            return []
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
        if self.state.closed:
            return []
        actions: list[Action] = []
        if self.state.turn is not None:
            actions.extend(self._interrupt(send=False, now=now))
        self.state.closed = True
        return actions

    # ---- the reply ----

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
            first = not turn.speech_requested
            pieces, turn.unspoken = split_speakable(turn.unspoken, first, self.first_piece)
            for piece in pieces:
                actions.append(self._speak(turn, piece))
        return actions

    def _speak(self, turn: ActiveTurn, piece: str) -> Speak:
        turn.speech_requested = True
        turn.speaking.append(piece)
        return Speak(turn.turn_id, piece)

    def _generation_done(self, turn: ActiveTurn, done: GenerationDone, now: float) -> list[Action]:
        turn.llm_done = True
        turn.prompt_tokens += done.prompt_tokens  # summed over the rounds of a tool-using turn
        turn.output_tokens += done.output_tokens
        self._measure_done(done)
        actions: list[Action] = []
        if self.speaks:
            rest = clean_for_speech(turn.unspoken)
            turn.unspoken = ""
            if rest:
                actions.append(self._speak(turn, rest))
        if turn.calls:  # the turn goes on once the BLOCKING calls are answered
            return actions
        if turn.repeated and not turn.words_only:
            # the model asked again for what it has: the next round answers in words
            turn.words_only = True
            return actions + self._next_round(turn)
        if turn.started_background:  # the model says what it is doing while the calls run
            if turn.rounds < MAX_ROUNDS:
                return actions + self._next_round(turn)
            actions.extend(
                self._note(
                    f"a turn started NON_BLOCKING calls in {MAX_ROUNDS} rounds in a row; "
                    "it ends there"
                )
            )
        if self.speaks:
            actions.append(FinishSpeech(turn.turn_id))
            return actions
        return actions + self._complete(turn, now)

    def _speech_ready(self, turn: ActiveTurn, ready: SpeechReady, now: float) -> list[Action]:
        """A synthesized piece goes on the playback clock: it starts when the previous one
        ends (or now), which is what later decides how much of the reply the user heard."""
        if turn.speaking and turn.speaking[0] == ready.text:
            turn.speaking.pop(0)
        start = max(now, self.state.playback_end)
        self.state.playback_end = start + ready.seconds
        first = not turn.spoken
        turn.spoken.append(SpokenPart(text=ready.text, seconds=ready.seconds, start=start))
        actions: list[Action] = []
        if self.state.setup.output_audio_transcription is not None and ready.text:
            # pieces are cut at spaces: a client that concatenates them needs the space back
            text = ready.text if first else " " + ready.text
            sc = ServerContent(output_transcription=Transcription(text=text))
            actions.append(Send(ServerMessage(server_content=sc)))
        actions.append(Play(turn.turn_id, start))
        return actions

    # ---- message handlers ----

    def _client_content(self, cc: ClientContent, now: float) -> list[Action]:
        actions: list[Action] = []
        if self.state.turn is not None and (cc.turns or cc.turn_complete):
            actions.extend(self._interrupt(send=True, now=now))
        turns = list(cc.turns or [])
        last_user = max((i for i, t in enumerate(turns) if t.role != "model"), default=-1)
        for i, turn in enumerate(turns):
            actions.extend(self._turn_images(turn, "clientContent.turns"))
            if i == last_user and cc.turn_complete:  # it reads the frames streamed so far
                turn = Content(role="user", parts=[*self._frames_for_turn(take=True), *turn.parts])
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
        blobs.extend(("media", chunk) for chunk in ri.media_chunks or [])
        if ri.activity_start is not None:
            if auto:
                raise InvalidArgument(
                    "activityStart needs realtimeInputConfig.automaticActivityDetection."
                    "disabled=true"
                )
            self.state.activity_open = True
            self.state.activity_audio = False
            if self.state.turn is not None and self._barge_in():
                actions.extend(self._interrupt(send=True, now=now))
            actions.extend(self._begin_utterance())
        for kind, blob in blobs:
            actions.extend(self._media(kind, blob))
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
            actions.extend(self._activity_end(now))
        if ri.audio_stream_end:
            if auto:
                actions.append(FlushSpeech())
            else:
                actions.extend(self._note("audioStreamEnd is ignored with manual activity"))
        return actions

    def _activity_end(self, now: float) -> list[Action]:
        self.state.activity_open = False
        ended = self._end_utterance()
        if self.state.activity_audio and (ended or self.state.voice.recognizing):
            # the transcript of the activity's audio completes the turn
            self.state.awaiting_transcript = True
            return ended
        actions: list[Action] = []
        for action in ended:  # no audio: nothing to recognize, give the transcript up at once
            if isinstance(action, EndUtterance):
                self.state.voice.recognizing.remove(action.utterance)
            else:
                actions.append(action)
        text = " ".join(self.state.activity_text)
        self.state.activity_text = []
        if text:
            actions.extend(self._utterance(text, now))
        return actions

    def _media(self, kind: str, blob: Blob) -> list[Action]:
        mime = (blob.mime_type or "").lower()
        if kind == "audio" or (kind == "media" and (not mime or mime.startswith("audio/"))):
            rate = parse_pcm_rate(blob.mime_type)
            if self._auto_activity():
                return [PushAudio(blob.data, rate, detect=True)]
            if not self.state.activity_open:
                return self._note("audio outside activityStart/activityEnd is ignored")
            self.state.activity_audio = True
            seconds = len(blob.data) / 2 / rate
            return [PushAudio(blob.data, rate, detect=False), *self._manual_audio(seconds)]
        if mime.startswith(("image/", "video/")) or kind == "video":
            where = "realtimeInput.video" if kind == "video" else "realtimeInput.mediaChunks"
            return self._frame(blob, where)
        raise InvalidArgument(f"realtimeInput MIME type {blob.mime_type!r} is not supported")

    def _context_update(self, cu: ContextUpdate) -> list[Action]:
        self.state.revision += 1
        if cu.tools is not None:
            self._update_tools(cu.tools)
        if cu.system_instruction is not None:
            self.state.setup = self.state.setup.model_copy(
                update={"system_instruction": cu.system_instruction}
            )
        return []

    # ---- turn mechanics ----

    def _barge_in(self) -> bool:
        ric = self.state.setup.realtime_input_config
        return not (ric and ric.activity_handling == "NO_INTERRUPTION")

    def _utterance(self, text: str, now: float) -> list[Action]:
        actions: list[Action] = []
        if self.state.turn is not None:
            if not self._barge_in():
                self.state.history.append(self._user_turn(text))
                self.state.pending_reply = True
                return actions
            actions.extend(self._interrupt(send=True, now=now))
        self.state.history.append(self._user_turn(text))
        actions.extend(self._begin_reply(now))
        return actions

    def _speech_began(self, now: float) -> list[Action]:
        if self.state.turn is not None and self._barge_in():
            return self._interrupt(send=True, now=now)
        return []

    def _transcript(self, event: UserTranscript, now: float) -> list[Action]:
        actions: list[Action] = []
        v = self.state.voice
        wants = self.state.setup.input_audio_transcription is not None
        if not event.final:
            if event.utterance != v.utterance or not v.collecting:
                return actions
            v.partial_pending = False
            if event.text.strip() and self.state.turn is None:
                request = self._request(0, pending_user=event.text.strip())
                actions.append(Prefill(request, speculative=event.speculative))
            if wants and event.text:
                sc = ServerContent(interim_input_transcription=Transcription(text=event.text))
                actions.append(Send(ServerMessage(server_content=sc)))
            if event.speculative:
                actions.extend(self._speculative_text(event.text))
            return actions
        if event.utterance not in v.recognizing:
            return actions  # owed no more (given up on restore)
        v.recognizing.remove(event.utterance)
        text = event.text.strip()
        if wants and text:
            shown = " " + text if v.transcribed else text
            v.transcribed = True
            sc = ServerContent(input_transcription=Transcription(text=shown, finished=True))
            actions.append(Send(ServerMessage(server_content=sc)))
        if self.state.awaiting_transcript and not v.recognizing:
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
            elif part.inline_data is not None:
                parts.append(Part(inline_data=part.inline_data))
            elif part.function_call is not None or part.function_response is not None:
                parts.append(part)
            elif part.file_data is not None:
                mime = part.file_data.mime_type or "file"
                actions.extend(self._note(f"{mime} file references are not fetched by openlive"))
            else:
                parts.append(Part(text=_describe_part(part)))
        self.state.history.append(Content(role=role, parts=parts))
        return actions

    def _begin_reply(self, now: float) -> list[Action]:
        compressed = self._compress()  # above the trigger: the oldest turns go first
        turn_id = self.state.next_turn_id
        self.state.next_turn_id += 1
        self.state.turn = ActiveTurn(turn_id=turn_id, started_at=now)
        self.state.pending_reply = False
        return [*compressed, StartGeneration(self._request(turn_id))]

    def _interrupt(
        self, *, send: bool, now: float | None, spare: frozenset[str] = frozenset()
    ) -> list[Action]:
        """Stop the reply. The history keeps what the user got: the text sent, or for speech
        what they had time to hear by ``now`` at real-time pace (``None``: what was released).
        The calls the turn still owes are cancelled, but not those in ``spare``
        (:meth:`_cancel_calls`). Results that were waiting for the turn to end join the
        history, with no reply."""
        turn = self.state.turn
        assert turn is not None
        self.state.turn = None
        self.state.playback_end = 0.0
        kept = _heard(turn, now) if self.speaks else turn.sent_text
        if kept.strip():
            self.state.history.append(Content(role="model", parts=[Part(text=kept)]))
        actions: list[Action] = [CancelGeneration(turn.turn_id)]
        if self.speaks:
            actions.append(StopSpeech(turn.turn_id))
        actions.extend(self._cancel_calls(turn, send=send, spare=spare))
        self._flush_deferred()
        if send:
            actions.append(Send(ServerMessage(server_content=ServerContent(interrupted=True))))
            actions.append(Send(ServerMessage(server_content=ServerContent(turn_complete=True))))
        return actions

    def _complete(self, turn: ActiveTurn, now: float) -> list[Action]:
        self.state.turn = None
        self.state.history.append(Content(role="model", parts=[Part(text=turn.sent_text)]))
        reply = self._flush_deferred()
        compressed = self._compress()
        prompt, output, images = turn.prompt_tokens, turn.output_tokens, turn.image_tokens
        details = [ModalityTokenCount(modality="TEXT", token_count=prompt)]
        if images:
            details.append(ModalityTokenCount(modality="IMAGE", token_count=images))
        usage = UsageMetadata(
            prompt_token_count=prompt + images,
            response_token_count=output,
            total_token_count=prompt + images + output,
            prompt_tokens_details=details,
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
            *compressed,
        ]
        if self.state.pending_reply or reply:
            actions.extend(self._begin_reply(now))
        return actions

    def _request(
        self, turn_id: int, pending_user: str | None = None, continuation: str = ""
    ) -> GenerationRequest:
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
        messages = tuple(_chat_message(c) for c in self.state.history)
        if pending_user is not None:
            messages += (self._pending_user(pending_user),)
        tools, mode = self._tools()
        self._asked(turn_id)
        turn = self.state.turn
        if turn is not None and turn.turn_id == turn_id:
            turn.image_tokens = self._image_tokens(messages)
            if turn.words_only:
                tools, mode = (), "NONE"
        return GenerationRequest(
            session_id=self.state.session_id,
            turn_id=turn_id,
            system=setup.instruction_text(),
            messages=messages,
            params=params,
            tools=tools,
            tool_mode=mode,
            continuation=continuation,
            media_resolution=self._resolution(),
        )

    def _note(self, message: str) -> list[Action]:
        """A log line (the runtime writes each distinct one once per session)."""
        return [Note(message)]


def _chat_message(content: Content) -> ChatMessage:
    """A history turn as the engine sees it: typed parts, nothing flattened."""
    parts: list[MessagePart] = []
    for part in content.parts:
        if part.text is not None:
            if not part.thought:
                parts.append(TextPart(part.text))
        elif part.inline_data is not None:
            blob = part.inline_data
            parts.append(InlinePart(blob.mime_type or "application/octet-stream", blob.data))
        elif part.function_call is not None:
            fc = part.function_call
            parts.append(FunctionCallPart(fc.name or "", dict(fc.args or {}), fc.id))
        elif part.function_response is not None:
            fr = part.function_response
            parts.append(FunctionResponsePart(fr.name or "", dict(fr.response or {}), fr.id))
            for extra in fr.parts or []:  # checked when the response arrived
                blob = Blob.model_validate(extra.get("inlineData") or extra.get("inline_data"))
                parts.append(InlinePart(blob.mime_type or "", blob.data))
    return ChatMessage("assistant" if content.role == "model" else "user", tuple(parts))


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
    if part.executable_code is not None:
        return part.executable_code.code
    if part.code_execution_result is not None:
        return part.code_execution_result.output or ""
    return ""
