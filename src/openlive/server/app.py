"""The openlive server: WebSocket Live endpoints and a little HTTP, on ws:// and wss://."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.protocol import State

from .. import __version__
from ..console import CONSOLE_PREFIX, PAGE_HEADERS, asset, console_info
from ..errors import (
    ConfigError,
    EngineError,
    ModelNotFound,
    Overloaded,
    PolicyViolation,
    ServerFault,
)
from ..models import EchoBackend, LLMBackend, ModelRegistry, RemoteBackend, Scheduler
from ..models.registry import short_model_name
from ..models.speech.stack import VoiceSettings, VoiceStack
from ..models.speech.voices import GEMINI_VOICES
from ..models.vision.service import Vision
from ..models.vision.stage import VisionStage
from ..protocol import Grant, KeyChecker, Method, Route, match_route, normalize_path
from ..runtime import LiveRuntime, LiveServices, SessionRuntime
from ..runtime.faults import parse_fault_plan
from ..runtime.keeper import SessionKeeper
from ..runtime.music import MUSIC_MODELS, MusicRuntime
from ..runtime.session import Keeping
from ..store import Store, open_store
from ..types import ClientMessage
from .config import ServerConfig
from .connection import Connection, ConnectionServices
from .http import HttpServerConnection, RestRoutes
from .loop_monitor import LoopMonitor
from .metrics import CONTENT_TYPE, ServerMetrics
from .tls import ensure_self_signed, server_context
from .tokens import TokenService

__all__ = ["App", "run_server"]

CONSOLE_MODEL = "gemini-live-2.5-flash-preview"
"""The model name the web console offers first (every ``gemini-*`` name reaches the default
engine)."""

log = logging.getLogger("openlive.server")


def build_backends(config: ServerConfig, scheduler: Scheduler) -> dict[str, LLMBackend]:
    """The echo engine always; the embedded one unless another default makes it unneeded
    (it is still built lazily when the model map names it); the remote one when configured."""
    backends: dict[str, LLMBackend] = {
        "echo": EchoBackend(delay=config.echo_delay, context_window=config.echo_context_window)
    }
    wants_embedded = config.model == "embedded" or "embedded" in config.models.values()
    if wants_embedded:
        from ..models.llm.catalog import llm_choice
        from ..models.llm.llama import LlamaBackend

        choice = llm_choice(config.llm)
        label = Path(config.llm_path).stem if config.llm_path else choice.name
        backends["embedded"] = LlamaBackend(
            scheduler,
            config.llm_path,
            n_ctx=config.n_ctx,
            max_reply_tokens=config.max_reply_tokens,
            label=label,
            weights=choice.weights,
        )
    if config.remote_url:
        backends["remote"] = RemoteBackend(
            config.remote_url,
            config.remote_model,
            config.remote_api_key,
            config.remote_timeout,
            context_window=config.remote_context_window,
        )
    return backends


def build_vision(config: ServerConfig, scheduler: Scheduler, registry: ModelRegistry) -> Vision:
    """The vision stage (OCR and scene facts), given to the embedded engine, which reads no
    pixels; images still get decoded and checked with ``vision = off``."""
    from ..models.llm.llama import LlamaBackend

    # OCR on one thread: frames are read beside replies, never more than one core for them
    vision = Vision(scheduler, VisionStage(threads=1))
    embedded = registry.backends.get("embedded")
    if isinstance(embedded, LlamaBackend) and config.vision != "off":
        embedded.vision = vision
    return vision


def _preload_music() -> None:
    """Load the SoundFont now if it is installed (a server without it serves no music, and
    says why when a music session starts)."""
    from ..music.render import load_soundfont

    try:
        load_soundfont()
    except (ConfigError, EngineError) as exc:
        log.warning("live music unavailable: %s", exc)


def _music_stream() -> Any:
    from ..music import MusicStream

    return MusicStream()


class App:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.scheduler = Scheduler(threads=config.threads or None, max_sessions=config.max_sessions)
        self.registry = ModelRegistry(
            build_backends(config, self.scheduler), config.model, config.models
        )
        self.keys = KeyChecker(config.api_keys)
        self.store: Store = open_store(config.store)
        """Shared state (resumption, tokens): in memory, or Redis for several nodes."""
        self.draining = False
        """Set on SIGTERM: no new sessions, every session told to go away."""
        self.keeper = SessionKeeper(self.store, config.resumption_ttl, config.handle_grace)
        self.faults = parse_fault_plan(config.faults)
        self._evictions: asyncio.Task[None] | None = None
        self.voice = VoiceStack(
            self.scheduler,
            VoiceSettings(
                asr=config.asr,
                asr_url=config.asr_url,
                asr_model=config.asr_model,
                tts=config.tts,
                tts_url=config.tts_url,
                tts_model=config.tts_model,
                tts_voice=config.tts_voice,
                api_key=config.remote_api_key,
                timeout=config.remote_timeout,
                lead_ms=config.audio_lead_ms,
                chunk_ms=config.audio_chunk_ms,
                first_piece=config.first_piece,
                end_of_turn=config.end_of_turn,
            ),
        )
        self.started = time.time()
        self.voice_turns: deque[dict[str, float | str]] = deque(maxlen=200)
        self.servers: list[Server] = []
        self.tls_cert: Path | None = None
        self.loop_monitor = LoopMonitor()
        self.connections: set[ServerConnection] = set()
        self.runtimes: weakref.WeakSet[SessionRuntime] = weakref.WeakSet()
        """The sessions being served (for /healthz and tests); each is owned by its
        connection."""
        self.refused_connections = 0
        self.metrics = ServerMetrics(self)
        """Prometheus metrics (``/metrics``), in a registry of this server's own."""
        self.vision = build_vision(config, self.scheduler, self.registry)
        self.music_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="openlive-music")
        """Live music rendering (~1 % of a core per stream) and SoundFont loading."""
        self.live = LiveServices(
            vision=self.vision,
            max_frames=config.max_frames,
            max_frame_bytes=int(config.max_frame_mb * 1024 * 1024),
            registry=self.registry,
            scheduler=self.scheduler,
            voice=self.voice,
            recognition=config.asr != "off",
            outbox_limit=config.outbox_frames,
            tool_timeout=config.tool_timeout,
            binary_frames=config.binary_frames,
            record_voice_turn=self.record_voice_turn,
            observer=self.metrics,
        )
        self.tokens = TokenService(self.store, self.keys, rate=config.token_rate)
        """Ephemeral tokens: minted over REST, redeemed on the Constrained route."""
        self.rest = RestRoutes(self.tokens)
        self.connection_services = ConnectionServices(
            keys=self.keys,
            openers={
                Method.LIVE: self._open_live,
                Method.LIVE_CONSTRAINED: self._open_live,
                Method.MUSIC: self._open_music,
            },
            authorize=self.tokens.authorize,
            setup_timeout=config.setup_timeout,
            on_refusal=self.metrics.session_refused,
        )

    async def start(self) -> None:
        try:  # a store that cannot be reached stops the server at start
            await self.store.ping()
        except Exception as exc:
            raise ConfigError(f"store {self.store.url} cannot be reached: {exc}") from exc
        self._evictions = asyncio.create_task(self._watch_evictions(), name="evictions")
        for backend in self.registry.backends.values():
            await backend.start()
        if self.config.model != "echo":
            # real engines preload voice too; an echo server (tests) loads it on first use
            await self.voice.start()
        # every server loads the music SoundFont before it listens: the loader holds the GIL
        # for a second or more (several on a busy machine), which would stall every session's
        # event loop at the first music session
        await asyncio.get_running_loop().run_in_executor(self.music_threads, _preload_music)
        # lag is measured from here: start-up work above is not time a session waits through
        self.loop_monitor.start()

    async def close(self) -> None:
        """Stop listening, end every session (each with its close frame), then release the
        models and their threads."""
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()
        for backend in self.registry.backends.values():
            await backend.close()
        await self.voice.close()
        await self.vision.close()
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.music_threads.shutdown(wait=True, cancel_futures=True)
        )
        await self.loop_monitor.stop()
        await self.scheduler.shutdown()
        if self._evictions is not None:
            self._evictions.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._evictions
        await self.store.close()

    async def _open_music(
        self,
        session_id: str,
        first: ClientMessage,
        route: Route,
        ws: ServerConnection,
        grant: Grant,
    ) -> SessionRuntime:
        """A live music session (spec §9): the model must be a music model."""
        setup = first.setup
        assert setup is not None
        name = short_model_name(setup.model or "")
        if name not in MUSIC_MODELS:
            raise ModelNotFound(
                f"models/{name or '(empty)'} is not found for API version {route.api_version}, "
                "or is not supported for bidiGenerateMusic."
            )
        if self.draining:
            raise Overloaded("server shutting down: connect again to reach another node")
        self._check_key_limit(grant)
        self.scheduler.admit(session_id)
        try:  # imported and built off the loop: the first one loads the SoundFont
            stream = await asyncio.get_running_loop().run_in_executor(
                self.music_threads, _music_stream
            )
        except ConfigError as exc:  # the SoundFont or the renderer is not installed
            self.scheduler.release(session_id)
            raise ServerFault(f"live music is not available on this server: {exc}") from exc
        except BaseException:
            self.scheduler.release(session_id)
            raise
        runtime = MusicRuntime(
            session_id,
            stream,
            self.scheduler,
            ws,
            render=self.music_threads,
            binary=self.config.binary_frames,
            observer=self.metrics,
        )
        runtime.principal = grant.principal
        runtime.idle_timeout = self.config.idle_timeout
        self._schedule_end(runtime, time.time(), grant)
        self.runtimes.add(runtime)
        self.metrics.session_started(route.method.value)
        log.info("session %s: live music on %s (%s)", session_id, name, route.api_version)
        return runtime

    async def _open_live(
        self,
        session_id: str,
        first: ClientMessage,
        route: Route,
        ws: ServerConnection,
        grant: Grant,
    ) -> SessionRuntime:
        setup = first.setup
        assert setup is not None
        config = self.config
        vertex = route.vertex
        if route.proxy:
            vertex = (setup.model or "").startswith(("publishers/", "projects/"))
        if self.draining:
            raise Overloaded("server shutting down: connect again to reach another node")
        self._check_key_limit(grant)
        resumption = setup.session_resumption
        kept = None
        if resumption is not None and resumption.handle:
            kept = await self.keeper.load(resumption.handle, grant.principal)
            age = time.time() - kept.created
            if config.max_session_seconds and age >= config.max_session_seconds:
                raise PolicyViolation(
                    f"the session reached its lifetime ({config.max_session_seconds:g} s); "
                    "start a new session"
                )
            runtime: LiveRuntime = await LiveRuntime.restore(
                self.live, kept.snapshot, setup, route, ws, vertex=vertex
            )
        else:
            runtime = await LiveRuntime.open(self.live, session_id, setup, route, ws, vertex=vertex)
        runtime.principal = grant.principal
        runtime.faults = self.faults
        runtime.idle_timeout = config.idle_timeout
        created = kept.created if kept is not None else time.time()
        if resumption is not None:
            owner = await self.keeper.claim(runtime.session_id)
            runtime.keeping = Keeping(
                self.keeper,
                grant.principal,
                owner,
                created,
                handle=resumption.handle or None,
                transparent=bool(resumption.transparent),
            )
        self._schedule_end(runtime, created, grant)
        self.runtimes.add(runtime)
        self.metrics.session_started(route.method.value)
        return runtime

    def _check_key_limit(self, grant: Grant) -> None:
        limit = self.config.max_sessions_per_key
        if limit and sum(1 for r in self.runtimes if r.principal == grant.principal) >= limit:
            raise Overloaded(
                f"this API key already has {limit} open sessions (the per-key limit); "
                "close one or retry later"
            )

    def _schedule_end(self, runtime: SessionRuntime, created: float, grant: Grant) -> None:
        """The connection's end, whichever comes first: its lifetime, the session's, the
        ephemeral token's expiry."""
        config = self.config
        ends: list[tuple[float, int, str]] = []
        if config.max_connection_seconds:
            ends.append(
                (
                    config.max_connection_seconds,
                    1000,
                    f"connection lifetime ({config.max_connection_seconds:g} s) reached; "
                    "resume the session with its latest handle",
                )
            )
        if config.max_session_seconds:
            left = created + config.max_session_seconds - time.time()
            ends.append((max(0.0, left), 1000, "the session reached its lifetime; start a new one"))
        expires = grant.expires_at
        if expires is not None:
            ends.append((max(0.0, expires - time.time()), 1008, "ephemeral token expired"))
        if not ends:
            return
        delay, code, reason = min(ends)
        notice = min(config.goaway_notice_seconds, delay / 2) if code == 1000 else 0.0
        runtime.end_after(delay, code, reason, notice)

    async def _watch_evictions(self) -> None:
        """Close the local connection of a session resumed on another connection (any node)."""
        async for session_id, owner in self.keeper.evictions():
            for runtime in list(self.runtimes):
                if runtime.session_id == session_id:
                    runtime.evicted(owner)

    async def drain(self) -> None:
        """SIGTERM: take no new sessions (readiness goes false), tell every session to go
        away, let turns in progress finish within ``drain_seconds``, keep their state."""
        self.draining = True
        grace = self.config.drain_seconds
        runtimes = [r for r in self.runtimes if not r.closing]
        log.info("draining %d sessions (up to %g s)", len(runtimes), grace)
        if runtimes:
            await asyncio.gather(*(r.drain(grace) for r in runtimes), return_exceptions=True)
        # let the close frames go out before the listeners close
        deadline = time.monotonic() + 5.0
        while any(not r.ended for r in self.runtimes) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    # ---- HTTP ----

    def process_request(
        self, ws: ServerConnection, request: Request
    ) -> Response | Awaitable[Response] | None:
        if (rest := self.rest.route(ws, request)) is not None:
            return rest  # POST/OPTIONS (auth_tokens), any method but GET: answered async
        if request.headers.get("Upgrade", "").lower() == "websocket":
            # a handshake that failed after this point never reached handle(): drop it here
            self.connections = {c for c in self.connections if c.state is not State.CLOSED}
            if self.draining:
                message = "server shutting down: connect again to reach another node"
                return _json(
                    ws,
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    {"error": {"code": 503, "status": "UNAVAILABLE", "message": message}},
                )
            if len(self.connections) >= self.config.max_connections:
                self.refused_connections += 1
                message = f"server at capacity ({self.config.max_connections} connections)"
                return _json(
                    ws,
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    {"error": {"code": 503, "status": "UNAVAILABLE", "message": message}},
                )
            # counted from the handshake on, until the connection is gone
            self.connections.add(ws)
            return None
        path = normalize_path(request.path)
        if path == "/healthz":
            return _json(ws, HTTPStatus.OK, self.health())
        if path == "/readyz":
            ready, body = self.readiness()
            return _json(ws, HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, body)
        if path == "/metrics":
            payload = self.metrics.exposition()
            length = str(len(payload))
            headers = Headers([("Content-Type", CONTENT_TYPE), ("Content-Length", length)])
            return Response(HTTPStatus.OK.value, HTTPStatus.OK.phrase, headers, payload)
        if path.rstrip("/").endswith("/models") or path == "/models":
            models = [
                {
                    "name": row["name"],
                    "displayName": row["engine"],
                    "supportedGenerationMethods": ["bidiGenerateContent"],
                }
                for row in self.registry.listing()
            ]
            return _json(ws, HTTPStatus.OK, {"models": models})
        if path in ("/", "/index.html", "/console", "/console/") and not _wants_json(request):
            return _console_file(ws, "index.html")
        if path == "/console/info":
            return _json(ws, HTTPStatus.OK, self.console_info())
        if path.startswith(CONSOLE_PREFIX):
            return _console_file(ws, path.removeprefix(CONSOLE_PREFIX))
        if path == "/":
            return _json(
                ws,
                HTTPStatus.OK,
                {
                    "name": "openlive",
                    "version": __version__,
                    "console": "/",
                    "health": "/healthz",
                    "models": "/v1beta/models",
                },
            )
        return _json(
            ws,
            HTTPStatus.NOT_FOUND,
            {"error": {"code": 404, "status": "NOT_FOUND", "message": f"no route for {path}"}},
        )

    def console_info(self) -> dict[str, Any]:
        """What the web console offers: models, voices, music models, whether keys are asked."""
        served = [*self.registry.backends, *sorted(self.registry.aliases)]
        return console_info(
            version=__version__,
            models=[CONSOLE_MODEL, *served],
            music_models=list(MUSIC_MODELS),
            voices=list(GEMINI_VOICES),
            keys=not self.keys.open,
        )

    def record_voice_turn(self, session_id: str, trace: dict[str, float]) -> None:
        """Keep the stage timings of a voice turn (``/healthz`` shows the recent ones)."""
        end = trace["speech_end_detected"]
        row: dict[str, float | str] = {"session": session_id}
        row["endpoint_s"] = round(trace.get("silence_s", 0.0), 3)
        row["speech_s"] = round(trace.get("speech_s", 0.0), 3)
        if "transcript" in trace:
            row["asr_s"] = round(trace["transcript"] - end, 3)
        if "first_token" in trace and "transcript" in trace:
            row["first_token_s"] = round(trace["first_token"] - trace["transcript"], 3)
        if "first_segment" in trace and "first_token" in trace:
            row["first_sentence_s"] = round(trace["first_segment"] - trace["first_token"], 3)
            row["tts_s"] = round(trace.get("synth_s", 0.0), 3)
            row["segment_audio_s"] = round(trace.get("segment_s", 0.0), 3)
            synth_start = trace["first_segment"] - trace.get("synth_s", 0.0)
            if "first_piece" in trace:
                row["first_piece_s"] = round(trace["first_piece"] - trace["first_token"], 3)
                row["synth_wait_s"] = round(synth_start - trace["first_piece"], 3)
            # did synthesis of the first piece start while the LLM was still writing?
            row["synth_overlaps_llm"] = int(trace.get("llm_done", float("inf")) > synth_start)
        row["detected_to_audio_s"] = round(trace["first_audio"] - end, 3)
        row["held_reply"] = bool(trace.get("held_reply"))
        # how far ahead of the commit the speculative work began (negative: after it)
        for key in ("speculated", "held_started", "held_first_token"):
            if key in trace:
                row[f"{key}_lead_s"] = round(end - trace[key], 3)
        self.metrics.voice_reply(trace["first_audio"] - end)
        self.voice_turns.append(row)
        log.info("voice turn %s", row)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether the server takes sessions now (``/readyz``): not while it drains, nor while
        an engine's model or the voice models load."""
        loading = [str(row["name"]) for row in self.registry.listing() if row.get("loading")]
        if self.voice.describe().get("loading"):
            loading.append("voice")
        ready = not self.draining and not loading
        body = {
            "ready": ready,
            "draining": self.draining,
            "loading": loading,
            "sessions": self.scheduler.sessions,
            "max_sessions": self.scheduler.max_sessions,
        }
        return ready, body

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.time() - self.started, 1),
            "sessions": self.scheduler.sessions,
            "max_sessions": self.scheduler.max_sessions,
            "models": self.registry.listing(),
            "connections": len(self.connections),
            "max_connections": self.config.max_connections,
            "refused_connections": self.refused_connections,
            "loop_lag_ms": self.loop_monitor.describe(),
            "voice": self.voice.describe(),
            "voice_turns": list(self.voice_turns)[-20:],
            "vision": {"mode": self.config.vision, **self.vision.stats()},
        }

    # ---- WebSocket ----

    async def handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        route = match_route(request.path)
        assert route is not None
        try:
            await Connection(self.connection_services, ws, route).run()
        finally:
            self.connections.discard(ws)

    async def listen(self) -> list[str]:
        """Bind the ports; return the URLs served."""
        config = self.config
        common: dict[str, Any] = {
            "process_request": self.process_request,
            "create_connection": HttpServerConnection,  # reads POST bodies (server/http.py)
            "max_size": config.max_frame_bytes,
            "max_queue": 64,
            "ping_interval": 20,
            "ping_timeout": 20,
            "server_header": f"openlive/{__version__}",
        }
        urls: list[str] = []
        plain = await serve(self.handle, config.host, config.port, **common)
        self.servers.append(plain)
        port = plain.sockets[0].getsockname()[1]
        urls.append(f"http://{_hostport(config.host, port)}")
        if not config.no_tls:
            if config.tls_cert and config.tls_key:
                cert, key = Path(config.tls_cert), Path(config.tls_key)
            else:
                cert, key = ensure_self_signed()
            self.tls_cert = cert
            secure = await serve(
                self.handle, config.host, config.tls_port, ssl=server_context(cert, key), **common
            )
            self.servers.append(secure)
            tls_port = secure.sockets[0].getsockname()[1]
            urls.append(f"https://{_hostport(config.host, tls_port)}")
        return urls


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _wants_json(request: Request) -> bool:
    """Whether a GET of ``/`` asks for JSON (an API client) rather than a page (a browser)."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _console_file(ws: ServerConnection, name: str) -> Response:
    found = asset(name)
    if found is None:
        error = {"code": 404, "status": "NOT_FOUND", "message": f"no console file {name!r}"}
        return _json(ws, HTTPStatus.NOT_FOUND, {"error": error})
    body, content_type = found
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),  # websockets serves one request per connection
            *PAGE_HEADERS,
        ]
    )
    return Response(HTTPStatus.OK.value, HTTPStatus.OK.phrase, headers, body)


def _json(ws: ServerConnection, status: HTTPStatus, body: Any) -> Response:
    payload = json.dumps(body, indent=1).encode()
    headers = Headers(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, payload)


async def run_server(
    config: ServerConfig,
    ready: Callable[[App, list[str]], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set or SIGINT (sessions closed at once), or SIGTERM (drained:
    goAway to every session, turns in progress finish within ``drain_seconds``)."""
    app = App(config)
    await app.start()
    urls = await app.listen()
    if ready is not None:
        ready(app, urls)
    stop = stop or asyncio.Event()
    terminate = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, terminate.set)
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(terminate.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if terminate.is_set():
            print("openlive: SIGTERM: draining sessions", file=sys.stderr, flush=True)
            await app.drain()
    finally:
        for wait in waits:
            wait.cancel()
        print("openlive: shutting down", file=sys.stderr)
        await app.close()
