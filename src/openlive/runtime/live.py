"""The runtime of a Live session: generation, prefill, voice in and voice out, one owner.

It drives a :class:`~openlive.session.LiveSession` core. Every task it starts belongs to its
:class:`TaskOwner`; ending the session cancels and awaits them, then releases the engine's
per-session state.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

from ..errors import EngineError, InvalidArgument, ServerFault, SessionError
from ..models import LLMBackend, ModelRegistry, Scheduler
from ..models.speech.stack import VoiceStack
from ..models.speech.tts import TtsBackend
from ..models.vision.service import Vision
from ..protocol import Route
from ..session import (
    Action,
    BeginUtterance,
    CancelGeneration,
    CancelSpeculation,
    EndpointerSettings,
    EndUtterance,
    EngineEvent,
    FinishSpeech,
    FlushSpeech,
    GenerationDone,
    GenerationFailed,
    GenerationRequest,
    LiveSession,
    Play,
    Prefill,
    PushAudio,
    RecognizePartial,
    ScoreTurn,
    SeeFrame,
    Speak,
    Speculate,
    SpeechAudio,
    SpeechReady,
    StartGeneration,
    StopSpeech,
    StoreAudio,
    TextDelta,
    ToolTimeout,
    UserTranscript,
    WatchToolCalls,
)
from ..session.activity import FRAME_MS
from ..session.tools import declared_tools
from ..types import ServerMessage, Setup
from .held import HeldReply
from .observer import SessionObserver
from .session import SessionRuntime, Transport
from .voice_in import VoiceIn
from .voice_out import VoiceOut

__all__ = ["LiveRuntime", "LiveServices"]

log = logging.getLogger("openlive.session")


@dataclass
class LiveServices:
    """What a Live session needs from the server: the models, and a few settings."""

    registry: ModelRegistry
    scheduler: Scheduler
    voice: VoiceStack
    recognition: bool = True
    """False when the server runs with ``asr = off``."""
    outbox_limit: int = 256
    tool_timeout: float = 60.0
    """Seconds a function call may wait for its toolResponse before it is cancelled."""
    binary_frames: bool = False
    record_voice_turn: Callable[[str, dict[str, float]], None] | None = None
    speculative_replies: bool = True
    """Start writing a reply on the transcript taken in a silence, before the turn is
    committed (held, and thrown away if the user goes on)."""
    observer: SessionObserver | None = None
    """Told of turns, replies, tool calls and ends (the server's metrics)."""
    vision: Vision | None = None
    """Decodes and describes images for engines that read no pixels."""
    max_frames: int = 4
    max_frame_bytes: int = 10 * 1024 * 1024


class LiveRuntime(SessionRuntime):
    core: LiveSession

    def __init__(
        self,
        services: LiveServices,
        core: LiveSession,
        backend: LLMBackend,
        transport: Transport,
        *,
        tts: TtsBackend | None = None,
        vertex: bool = False,
    ) -> None:
        super().__init__(
            core.state.session_id,
            core,
            transport,
            outbox_limit=services.outbox_limit,
            binary=services.binary_frames,
            vertex=vertex,
            observer=services.observer,
        )
        self.services = services
        self.backend = backend
        self._tts = tts
        self._generation: asyncio.Task[None] | None = None
        self._generation_turn = 0
        self._prefill: asyncio.Task[None] | None = None
        self.voice_in: VoiceIn | None = None
        self.voice_out: VoiceOut | None = None
        self._trace: dict[str, float] = {}
        self.engine_key = self.session_id
        self._held: HeldReply | None = None
        self._speculated_at = 0.0
        """When the running speculative recognition began (for the turn's trace)."""
        self._next_frame: SeeFrame | None = None
        self._seeing: asyncio.Task[None] | None = None
        """A reply being written on a speculative transcript, not shown yet."""
        self.held_replies_taken = 0
        """What the engines and the scheduler know this connection's session by."""
        self._awaiting_text: float | None = None
        """When the generation that has not sent text yet started (first-text latency)."""

    @classmethod
    async def open(
        cls,
        services: LiveServices,
        session_id: str,
        setup: Setup,
        route: Route,
        transport: Transport,
        *,
        vertex: bool,
    ) -> LiveRuntime:
        """Validate the setup and build the session (raises :class:`SessionError`). The caller
        owns the admission it holds: :meth:`release` gives it back."""
        resolved = services.registry.resolve(setup.model or "", route.api_version)
        core = LiveSession.create(session_id, resolved.name, setup, time.monotonic())
        core.state.voice.semantic = services.recognition and services.voice.semantic
        return await cls._build(services, core, route, transport, vertex=vertex)

    @classmethod
    async def restore(
        cls,
        services: LiveServices,
        snapshot: str,
        setup: Setup,
        route: Route,
        transport: Transport,
        *,
        vertex: bool,
    ) -> LiveRuntime:
        """A session kept at a resumption checkpoint, taken up by a new connection whose
        setup is ``setup`` (raises :class:`SessionError`)."""
        try:
            core = LiveSession.restore(snapshot, setup)
        except ValueError as exc:
            raise ServerFault(f"the kept session could not be read ({type(exc).__name__})") from exc
        # the engines keep per-connection state under a key of its own: the connection this
        # one takes over may still be ending, and releases what it kept under its key
        key = f"{core.state.session_id}~{secrets.token_hex(4)}"
        runtime = await cls._build(services, core, route, transport, vertex=vertex, key=key)
        runtime.resumed = True
        return runtime

    @classmethod
    async def _build(
        cls,
        services: LiveServices,
        core: LiveSession,
        route: Route,
        transport: Transport,
        *,
        vertex: bool,
        key: str | None = None,
    ) -> LiveRuntime:
        setup = core.state.setup
        session_id = core.state.session_id
        key = key or session_id
        resolved = services.registry.resolve(core.state.model, route.api_version)
        if declared_tools(setup.tools) and not resolved.backend.calls_tools:
            raise InvalidArgument(
                f"the {resolved.backend_name} engine does not call functions yet; serve "
                "sessions with tools on a remote engine (remote_url), or remove setup.tools"
            )
        tts: TtsBackend | None = None
        if core.speaks:
            choice, tts = await services.voice.choose(setup)  # 1007 before any model loads
            try:
                await services.voice.ready()
            except EngineError as exc:
                raise ServerFault(str(exc)) from exc
            log.info("session %s: voice %s", session_id, choice.label)
        services.scheduler.admit(key)
        log.info(
            "session %s: model %s on %s engine (%s %s)",
            session_id,
            resolved.name,
            resolved.backend_name,
            route.method.value,
            route.api_version,
        )
        runtime = cls(services, core, resolved.backend, transport, tts=tts, vertex=vertex)
        runtime.engine_key = key
        core.first_piece = services.voice.settings.first_piece
        core.state.vision.max_frames = services.max_frames
        core.state.vision.max_frame_bytes = services.max_frame_bytes
        return runtime

    def closing_started(self) -> None:
        if self.voice_in is not None:
            self.voice_in.shut()

    async def release(self) -> None:
        if self.voice_out is not None:
            self.services.scheduler.drop_playback(self.engine_key, self.voice_out.slack)
        self.services.scheduler.release(self.engine_key)
        self.backend.forget(self.engine_key)

    # ---- events ----

    async def event(self, event: EngineEvent) -> None:
        self._trace_event(event, time.monotonic())
        await super().event(event)

    # ---- actions ----

    async def handle(self, action: Action) -> None:
        if isinstance(action, StartGeneration):
            self._start_generation(action.request)
        elif isinstance(action, CancelGeneration):
            self._cancel_generation(action.turn_id)
        elif isinstance(action, Prefill):
            request = replace(action.request, session_id=self.engine_key)
            if action.speculative and self.services.speculative_replies:
                self._drop_held()
                self._held = HeldReply(self.backend, request, self.tasks)
            elif self._prefill_wanted():
                self._prefill = self.tasks.spawn(self.backend.prefill(request), "prefill")
        elif isinstance(action, PushAudio):
            self.backend.accept_audio(self.engine_key, action.data, action.rate)
            if self.services.recognition:
                await self._voice_in().push(action.data, action.rate, action.detect)
            else:  # audio is only counted: no detection, no turns from speech
                self.note_once("speech recognition is off on this server (asr = off)")
        elif isinstance(action, StoreAudio):
            self._voice_in().store(action.target)
        elif isinstance(action, BeginUtterance):
            self._drop_held()
            self._voice_in().begin(action.utterance)
        elif isinstance(action, EndUtterance):
            now = time.monotonic()
            speech_s = self._voice_in().end(action.utterance, action.reuse_speculation)
            endpoint = self.core.state.voice.endpoint  # the silence that ended the turn
            silence_ms = max(0, endpoint.frame - 1 - endpoint.last_voice) * FRAME_MS
            auto = self.core.automatic_activity
            self._trace = {
                "speech_end_detected": now,
                "silence_s": silence_ms / 1000 if auto else 0.0,
                "speech_s": speech_s,
            }
            if action.reuse_speculation and self._speculated_at:
                self._trace["speculated"] = self._speculated_at
        elif isinstance(action, SeeFrame):
            await self._see(action)
        elif isinstance(action, ScoreTurn):
            self._voice_in().score(action.utterance, action.last_voice)
        elif isinstance(action, Speculate):
            self._speculated_at = time.monotonic()
            if self._prefill is not None:
                # an earlier transcript's prompt, still waiting for the compute (or reading):
                # the reply written ahead reads the prompt it needs
                self._prefill.cancel()
                self._prefill = None
            self._voice_in().speculate(action.utterance)
        elif isinstance(action, CancelSpeculation):
            self._drop_held()
            self._voice_in().cancel_speculation()
        elif isinstance(action, RecognizePartial):
            self._voice_in().partial(action.utterance)
        elif isinstance(action, FlushSpeech):
            await self._voice_in().flush()
        elif isinstance(action, Speak):
            if self._trace and "first_piece" not in self._trace:
                self._trace["first_piece"] = time.monotonic()  # written, handed to synthesis
            await self._voice_out().speak(action.turn_id, action.text)
        elif isinstance(action, Play):
            await self._voice_out().play(action.turn_id, action.start)
        elif isinstance(action, FinishSpeech):
            await self._voice_out().finish(action.turn_id)
        elif isinstance(action, StopSpeech):
            if self.voice_out is not None:
                self.voice_out.stop(action.turn_id)
        elif isinstance(action, WatchToolCalls):
            timer = self._tool_timer(action.turn_id, action.ids, action.watch)
            self.tasks.spawn(timer, "tool timeout")
        else:  # pragma: no cover - every action is handled above
            raise TypeError(f"unhandled action {action!r}")

    # ---- images ----

    async def _see(self, frame: SeeFrame) -> None:
        """Decode every image as it comes, off the loop (the client's next message waits for
        it: a bad image closes the session 1007 before anything reads it); for an engine that
        reads no pixels, describe the latest frame ahead of the turn that will take it (one
        still waiting when a newer one comes is skipped)."""
        vision = self.services.vision
        if vision is None:
            self.note_once("images are passed to the engine undecoded (no vision stage)")
            return
        try:
            await vision.check(frame.data, frame.mime_type, frame.where)
        except SessionError as exc:
            await self.fail(exc)
            return
        if getattr(self.backend, "vision", None) is None:
            return
        if self._next_frame is not None:
            vision.skipped += 1
        self._next_frame = frame
        if self._seeing is None or self._seeing.done():
            self._seeing = self.tasks.spawn(self._look(vision), "vision")

    async def _look(self, vision: Vision) -> None:
        while self._next_frame is not None:
            await vision.idle()  # read ahead only while no reply is being written
            frame, self._next_frame = self._next_frame, None
            await vision.see(frame.data, frame.mime_type, frame.resolution, frame.where)

    # ---- reports ----

    def sent(self, message: ServerMessage) -> None:
        if self._awaiting_text is not None and message.text:
            self.observer.first_text(time.monotonic() - self._awaiting_text)
            self._awaiting_text = None
        if message.tool_call is not None and message.tool_call.function_calls:
            self.observer.tool_calls(len(message.tool_call.function_calls))
        if message.server_content is not None and message.server_content.turn_complete:
            self.observer.turn_completed("audio" if self.core.speaks else "text")

    def queue_depths(self) -> dict[str, int]:
        depths = super().queue_depths()
        if self.voice_in is not None:
            depths["audio_in"] = self.voice_in.backlog
        if self.voice_out is not None:
            depths["speech_text"], depths["speech_audio"] = self.voice_out.backlog
        return depths

    # ---- generation ----

    def _start_generation(self, request: GenerationRequest) -> None:
        request = replace(request, session_id=self.engine_key)
        self._awaiting_text = time.monotonic()
        if self._generation is not None:
            self._generation.cancel()
        self._generation_turn = request.turn_id
        held, self._held = self._held, None
        if held is not None and held.matches(request):
            self.held_replies_taken += 1
            if self._trace:
                self._trace["held_reply"] = 1.0
                self._trace["held_started"] = held.started
                if held.first_token is not None:
                    self._trace["held_first_token"] = held.first_token
            events = held.take(request.turn_id)
        else:
            if held is not None:
                held.drop()
            events = self.backend.generate(request)
        self._generation = self.tasks.spawn(self._generate(request, events), "language model")

    def _prefill_wanted(self) -> bool:
        """Read a prompt ahead now? Not while another read is under way, nor while a reply
        is being written ahead or a recognition for one runs: that reply reads the prompt it
        needs, and a read here would only take the compute from it."""
        if self._prefill is not None and not self._prefill.done():
            return False
        return self._held is None and not (self.voice_in and self.voice_in.speculating)

    def _drop_held(self) -> None:
        if self._held is not None:
            self._held.drop()
            self._held = None

    def _cancel_generation(self, turn_id: int) -> None:
        task = self._generation
        if task is None or self._generation_turn != turn_id:
            return
        self._generation = None
        if task is not asyncio.current_task():
            task.cancel()

    async def _generate(
        self, request: GenerationRequest, events: AsyncIterator[EngineEvent]
    ) -> None:
        try:
            async for event in events:
                await self.event(event)
        except EngineError as exc:
            log.warning("session %s: engine error: %s", self.session_id, exc)
            await self.event(GenerationFailed.of(request.turn_id, exc))

    async def _tool_timer(self, turn_id: int, ids: tuple[str, ...], watch: int) -> None:
        await asyncio.sleep(self.services.tool_timeout)
        # the core ignores calls answered (or re-armed by willContinue) since
        await self.event(ToolTimeout(turn_id, ids, watch))

    # ---- voice stages (made on first use) ----

    def _voice_in(self) -> VoiceIn:
        if self.voice_in is None:
            setup = self.core.state.setup
            services = self.services
            iat = setup.input_audio_transcription
            ric = setup.realtime_input_config
            self.voice_in = VoiceIn(
                emit=self.event,
                tasks=self.tasks,
                vad=services.voice.vad_model,
                asr=services.voice.asr if services.recognition else None,
                scheduler=services.scheduler,
                language=iat.language_codes[0] if iat and iat.language_codes else None,
                prefix_ms=_prefix_ms(setup),
                all_input=bool(ric and ric.turn_coverage == "TURN_INCLUDES_ALL_INPUT"),
                turn=services.voice.turn_model,
            )
        return self.voice_in

    def _voice_out(self) -> VoiceOut:
        if self.voice_out is None:
            assert self._tts is not None
            settings = self.services.voice.settings
            self.voice_out = VoiceOut(
                tts=self._tts,
                scheduler=self.services.scheduler,
                emit=self.event,
                tasks=self.tasks,
                chunk_ms=settings.chunk_ms,
                lead_ms=settings.lead_ms,
            )
            # the reply's deadline is its audio: the scheduler reads how much is left to play
            self.services.scheduler.set_playback(self.engine_key, self.voice_out.slack)
        return self.voice_out

    def _trace_event(self, event: EngineEvent, now: float) -> None:
        """Time the stages of a voice turn: from the end of speech to the first audio out."""
        trace = self._trace
        if not trace or "first_audio" in trace:
            return
        if isinstance(event, UserTranscript) and event.final and "transcript" not in trace:
            trace.update(asr_s=event.asr_s, transcript=now)
        elif isinstance(event, TextDelta) and "first_token" not in trace and "transcript" in trace:
            trace["first_token"] = now
        elif isinstance(event, GenerationDone) and "llm_done" not in trace:
            trace["llm_done"] = now
        elif isinstance(event, SpeechReady) and "first_segment" not in trace:
            trace.update(first_segment=now, synth_s=event.synth_s, segment_s=event.seconds)
        elif isinstance(event, SpeechAudio):
            trace["first_audio"] = now
            if self.services.record_voice_turn is not None:
                self.services.record_voice_turn(self.session_id, trace)


def _prefix_ms(setup: Setup) -> int:
    return EndpointerSettings.from_setup(setup).prefix_padding_ms
