"""One WebSocket connection driving one Live session: the I/O adapter around the state machine.

Three kinds of work meet here, all on the event loop: the reader (client frames → machine), the
current turn's generation task (engine events → machine) and the writer (one task, so messages
leave in the order the machine produced them). Model inference itself runs on the scheduler's
threads. Any error ends only this session, with a close code and a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ..errors import EngineError, InvalidArgument, PolicyViolation, ServerFault, SessionError
from ..protocol import Method, Route, decode_client_message, encode_server_message, split_message
from ..protocol.credentials import extract_credential
from ..session import (
    Action,
    CancelGeneration,
    Close,
    EngineEvent,
    FinishSpeech,
    GenerationFailed,
    GenerationRequest,
    LiveSession,
    MarkActivity,
    Note,
    Prefill,
    PushAudio,
    Send,
    Speak,
    SpeechAudio,
    SpeechSegment,
    StartGeneration,
    StopSpeech,
    TextDelta,
    UserSpeechEnded,
    UserTranscript,
)

if TYPE_CHECKING:
    from ..engine import LLMBackend
    from ..engine.tts import TtsBackend
    from ..engine.voice_input import VoiceInput
    from ..engine.voice_output import VoiceOutput
    from .app import App

__all__ = ["LiveConnection"]

log = logging.getLogger("openlive.session")


class _CloseRequest:
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class LiveConnection:
    def __init__(self, app: App, ws: ServerConnection, route: Route) -> None:
        self.app = app
        self.ws = ws
        self.route = route
        self.session_id = secrets.token_urlsafe(12)
        self.session: LiveSession | None = None
        self.backend: LLMBackend | None = None
        self.vertex = route.vertex
        self._outbox: asyncio.Queue[str | _CloseRequest] = asyncio.Queue()
        self._generation: asyncio.Task[None] | None = None
        self._generation_turn = 0
        self._closing = False
        self._admitted = False
        self.voice_in: VoiceInput | None = None
        self.voice_out: VoiceOutput | None = None
        self._tts: TtsBackend | None = None
        self._trace: dict[str, float] = {}
        self._prefill: asyncio.Task[None] | None = None
        self._notes: set[str] = set()

    # ---- lifecycle ----

    async def run(self) -> None:
        writer = asyncio.create_task(self._write(), name=f"writer-{self.session_id}")
        try:
            await self._serve()
        except SessionError as exc:
            self._close(exc.code, exc.reason)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("session %s: internal error", self.session_id)
            self._close(1011, f"internal error (session {self.session_id}); see server log")
        finally:
            await self._stop_generation()
            for voice in (self.voice_in, self.voice_out):
                if voice is not None:
                    await voice.close()
            if self.session is not None and not self._closing:
                self.session.client_closed(time.monotonic())
            if not self._closing:
                self._outbox.put_nowait(_CloseRequest(1000, ""))
            try:
                await asyncio.wait_for(writer, timeout=10)
            except (TimeoutError, ConnectionClosed):
                writer.cancel()
            if self._admitted:
                self.app.scheduler.release(self.session_id)
            if self.backend is not None:
                self.backend.forget(self.session_id)
            log.info("session %s: ended", self.session_id)

    async def _serve(self) -> None:
        request = self.ws.request
        assert request is not None
        credential = extract_credential(request.path, dict(request.headers.raw_items()))
        # Refusals wait for the first frame: the official clients send setup and then read,
        # so a close that arrives before their send surfaces as a transport error instead of
        # the reason.
        try:
            first = await asyncio.wait_for(self.ws.recv(), timeout=self.app.config.setup_timeout)
        except TimeoutError:
            raise InvalidArgument(
                f"no setup message within {self.app.config.setup_timeout:g} s of connecting"
            ) from None
        if self.route.method is Method.MUSIC:
            raise PolicyViolation(
                "BidiGenerateMusic (Lyria RealTime) is not served by openlive yet"
            )
        if self.route.method is Method.LIVE_CONSTRAINED:
            raise PolicyViolation("ephemeral tokens are not enabled on this server; use an API key")
        self.app.keys.check(credential)
        message = decode_client_message(first)
        if message.setup is None:
            raise InvalidArgument(f"the first message must be setup, not {message.kind}")
        setup = message.setup
        if not setup.model:
            raise InvalidArgument("setup.model is required")
        if self.route.proxy:
            self.vertex = setup.model.startswith(("publishers/", "projects/"))
        resolved = self.app.registry.resolve(setup.model, self.route.api_version)
        self.app.scheduler.admit(self.session_id)
        self._admitted = True
        self.backend = resolved.backend
        now = time.monotonic()
        self.session = LiveSession.create(self.session_id, resolved.name, setup, now)
        if self.session.speaks:
            try:
                await self.app.voice.ready()
            except EngineError as exc:
                raise ServerFault(str(exc)) from exc
            choice, self._tts = self.app.voice.voice_for(setup)
            log.info("session %s: voice %s", self.session_id, choice.label)
        log.info(
            "session %s: model %s on %s engine (%s %s)",
            self.session_id,
            resolved.name,
            resolved.backend_name,
            self.route.method.value,
            self.route.api_version,
        )
        try:
            self._apply(self.session.start())
        except SessionError as exc:
            self._apply(self.session.fail(exc))
            return
        async for frame in self.ws:
            if self._closing:
                break
            self._on_frame(frame)

    def _on_frame(self, frame: str | bytes) -> None:
        session = self.session
        assert session is not None
        now = time.monotonic()
        try:
            message = decode_client_message(frame)
        except InvalidArgument as exc:
            log.info("session %s: bad frame: %s", self.session_id, exc.reason)
            self._apply(session.fail(exc))
            return
        self._apply(session.receive_client(message, now))

    # ---- actions ----

    def _apply(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                for piece in split_message(action.message):
                    self._outbox.put_nowait(encode_server_message(piece, vertex=self.vertex))
            elif isinstance(action, StartGeneration):
                self._start_generation(action.request)
            elif isinstance(action, Prefill):
                if self.backend is not None and (self._prefill is None or self._prefill.done()):
                    self._prefill = asyncio.create_task(self.backend.prefill(action.request))
            elif isinstance(action, CancelGeneration):
                if self._generation is not None and self._generation_turn == action.turn_id:
                    self._generation.cancel()
                    self._generation = None
            elif isinstance(action, PushAudio):
                if self.backend is not None:
                    self.backend.accept_audio(self.session_id, action.data, action.rate)
                if self.app.config.asr == "off":
                    self._note_once("speech recognition is off on this server (asr = off)")
                else:
                    self._voice_input().push(action.data, action.rate)
            elif isinstance(action, MarkActivity):
                voice_in = self._voice_input()
                if action.kind == "open":
                    voice_in.open_activity()
                else:
                    voice_in.close_activity()
            elif isinstance(action, Speak):
                self._voice_output().speak(action.turn_id, action.text)
            elif isinstance(action, FinishSpeech):
                self._voice_output().finish(action.turn_id)
            elif isinstance(action, StopSpeech):
                if self.voice_out is not None:
                    self.voice_out.stop(action.turn_id)
            elif isinstance(action, Close):
                self._close(action.code, action.reason)
            elif isinstance(action, Note):
                log.info("session %s: %s", self.session_id, action.message)

    def _note_once(self, message: str) -> None:
        if message not in self._notes:
            self._notes.add(message)
            log.info("session %s: %s", self.session_id, message)

    def _engine_event(self, event: EngineEvent) -> None:
        if self.session is not None and not self._closing:
            now = time.monotonic()
            self._trace_event(event, now)
            self._apply(self.session.receive_engine(event, now))

    def _trace_event(self, event: EngineEvent, now: float) -> None:
        """Time the stages of a voice turn: from the end of speech to the first audio out."""
        trace = self._trace
        if isinstance(event, UserSpeechEnded):
            self._trace = {
                "speech_end_detected": now,
                "silence_s": event.silence_s,
                "speech_s": event.speech_s,
            }
        elif not trace or "first_audio" in trace:
            return
        elif isinstance(event, UserTranscript) and event.final and "asr_s" not in trace:
            trace.update(asr_s=event.asr_s, transcript=now)
        elif isinstance(event, TextDelta) and "first_token" not in trace and "transcript" in trace:
            trace["first_token"] = now
        elif isinstance(event, SpeechSegment) and "first_segment" not in trace:
            trace.update(first_segment=now, synth_s=event.synth_s, segment_s=event.seconds)
        elif isinstance(event, SpeechAudio):
            trace["first_audio"] = now
            self.app.record_voice_turn(self.session_id, trace)

    def _voice_failed(self, reason: str) -> None:
        """A voice backend failed: end this session with 1011 and the reason."""
        if self.session is not None and not self._closing:
            self._apply(self.session.fail(ServerFault(reason)))

    def _voice_input(self) -> VoiceInput:
        if self.voice_in is None:
            assert self.session is not None
            self.voice_in = self.app.voice.input_for(
                self.session.state.setup, self._engine_event, self._voice_failed
            )
        return self.voice_in

    def _voice_output(self) -> VoiceOutput:
        if self.voice_out is None:
            assert self._tts is not None
            self.voice_out = self.app.voice.output_for(
                self._tts, self._engine_event, self._voice_failed
            )
        return self.voice_out

    def _close(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        level = logging.INFO if code in (1000, 1008) else logging.WARNING
        log.log(level, "session %s: closing %d %s", self.session_id, code, reason)
        self._outbox.put_nowait(_CloseRequest(code, reason))

    async def _write(self) -> None:
        binary = self.app.config.binary_frames
        while True:
            item = await self._outbox.get()
            if isinstance(item, _CloseRequest):
                await self.ws.close(item.code, item.reason)
                return
            try:
                await self.ws.send(item.encode() if binary else item)
            except ConnectionClosed:
                return

    # ---- generation ----

    def _start_generation(self, request: GenerationRequest) -> None:
        self._generation_turn = request.turn_id
        self._generation = asyncio.create_task(
            self._generate(request), name=f"turn-{self.session_id}-{request.turn_id}"
        )

    async def _generate(self, request: GenerationRequest) -> None:
        assert self.backend is not None and self.session is not None
        session = self.session
        try:
            async for event in self.backend.generate(request):
                now = time.monotonic()
                self._trace_event(event, now)
                self._apply(session.receive_engine(event, now))
        except asyncio.CancelledError:
            raise
        except EngineError as exc:
            log.warning("session %s: engine error: %s", self.session_id, exc)
            failed = GenerationFailed(request.turn_id, str(exc))
            self._apply(session.receive_engine(failed, time.monotonic()))
        except Exception as exc:
            log.exception("session %s: engine crashed", self.session_id)
            fault = ServerFault(f"model crashed ({type(exc).__name__}); session {self.session_id}")
            self._apply(session.fail(fault))

    async def _stop_generation(self) -> None:
        task, self._generation = self._generation, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
