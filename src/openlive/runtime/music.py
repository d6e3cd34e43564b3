"""The runtime of a live music session (``BidiGenerateMusic``, spec §9).

The connection, credentials, limits and the one close frame are the same as for Live sessions
(:class:`~openlive.runtime.SessionRuntime`); what differs is the traffic. Client messages carry
exactly one of ``clientContent.weightedPrompts``, ``musicGenerationConfig`` and
``playbackControl`` (camelCase or snake_case); the server streams
``serverContent.audioChunks`` of 48 kHz stereo PCM16 (``audio/pcm;rate=48000;channels=2``),
100 ms a chunk, paced at real time with a lead of :data:`LEAD_S`. Chunks are rendered by a
:class:`~openlive.music.MusicStream` on the server's music threads (their own pool, so model
loading and image decoding never hold music up), never on the event loop.

Playback: ``PLAY`` starts or resumes (from where it paused); ``PAUSE`` stops the stream where
it is; ``STOP`` stops and resets the context (prompts and config are kept); ``RESET_CONTEXT``
resets it without stopping: the music starts again from a new phrase, and ``bpm``, ``scale``
and ``seed`` changes take effect (other settings and prompts take effect at the next bar).
Audio is only sent once prompts are set. A prompt with empty text is dropped with a
``filteredPrompt`` message; no prompt left, weights all 0, an out-of-range setting or a
malformed message close the session 1007 naming the field.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

from ..errors import InvalidArgument, SessionError
from ..models.scheduler import Scheduler
from ..session import Action, Close, EngineEvent, Send
from ..types import ClientMessage, ServerMessage, SetupComplete
from ..types.music import MusicGenerationConfig
from .observer import SessionObserver
from .session import SessionRuntime, Transport

__all__ = ["LEAD_S", "MUSIC_MODELS", "MusicRuntime"]

log = logging.getLogger("openlive.session")

MUSIC_MODELS = ("lyria-realtime-exp", "openlive-music")
"""Model names a music session may ask for (with or without ``models/``)."""
LEAD_S = 0.5
"""How far ahead of real time audio is sent (enough to ride out a slow chunk)."""
CONTROLS = ("PLAY", "PAUSE", "STOP", "RESET_CONTEXT")
_FIELDS = {
    "clientContent": "clientContent",
    "client_content": "clientContent",
    "musicGenerationConfig": "musicGenerationConfig",
    "music_generation_config": "musicGenerationConfig",
    "playbackControl": "playbackControl",
    "playback_control": "playbackControl",
    "setup": "setup",
}


class MusicCore:
    """The little a music session's state machine does beside the runtime: the setup reply,
    and ending once with a close code (the rest lives in the runtime's stream)."""

    def __init__(self) -> None:
        self.closed = False

    def start(self, now: float = 0.0) -> list[Action]:
        return [Send(ServerMessage(setup_complete=SetupComplete()))]

    def resume(self, now: float) -> list[Action]:
        return []

    def receive_client(self, message: ClientMessage, now: float) -> list[Action]:
        return []

    def receive_engine(self, event: EngineEvent, now: float) -> list[Action]:
        return []

    def fail(self, exc: SessionError) -> list[Action]:
        if self.closed:
            return []
        self.closed = True
        return [Close(exc.code, exc.reason)]

    def client_closed(self, now: float) -> list[Action]:
        self.closed = True
        return []

    def to_json(self) -> str:
        return "{}"


class MusicRuntime(SessionRuntime):
    """One music session: messages in, paced audio chunks out."""

    def __init__(
        self,
        session_id: str,
        stream: Any,
        scheduler: Scheduler,
        transport: Transport,
        *,
        render: Executor | None = None,
        outbox_limit: int = 64,
        binary: bool = False,
        observer: SessionObserver | None = None,
    ) -> None:
        super().__init__(
            session_id,
            MusicCore(),
            transport,
            outbox_limit=outbox_limit,
            binary=binary,
            observer=observer,
        )
        self._render = render
        """Threads chunks are rendered on (the server's music pool; None: the default)."""
        self.stream = stream
        """The :class:`~openlive.music.MusicStream` (built off the loop by the opener)."""
        self.scheduler = scheduler
        self.playing = False
        self._wake = asyncio.Event()
        self._held = b""
        """A chunk rendered as PAUSE came: sent first on PLAY, so the music has no gap."""
        self._epoch = 0
        """Counts STOP and RESET_CONTEXT: a chunk rendered across one is dropped."""
        self.chunks_sent = 0

    async def start(self) -> None:
        await super().start()
        self.tasks.spawn(self._play(), "music")

    async def release(self) -> None:
        self.scheduler.release(self.session_id)

    def busy(self) -> bool:
        """Playing music is a session at work: the idle timeout does not end it."""
        return self.playing or super().busy()

    def settled(self) -> bool:
        """No turn to finish: a draining server closes a music session at once."""
        return True

    async def handle(self, action: Action) -> None:  # pragma: no cover - the core sends none
        raise TypeError(f"unhandled action {action!r}")

    async def receive(self, frame: str | bytes) -> None:
        self.last_input = time.monotonic()
        try:
            try:
                await self._message(_decode(frame))
            except (OverflowError, ValueError, TypeError) as exc:
                raise InvalidArgument(f"a value in the message is out of range ({exc})") from exc
        except InvalidArgument as exc:
            log.info("session %s: bad music message: %s", self.session_id, exc.reason)
            await self.fail(exc)

    async def _message(self, message: Mapping[str, Any]) -> None:
        field, value = next(iter(message.items()))
        if field == "setup":
            raise InvalidArgument("setup may only be sent once, as the first message")
        if field == "clientContent":
            await self._prompts(value)
        elif field == "musicGenerationConfig":
            from ..music import config_from_wire

            if not isinstance(value, Mapping):
                raise InvalidArgument("musicGenerationConfig must be an object")
            self.stream.set_config(config_from_wire(value))
        else:
            self._control(value)

    async def _prompts(self, content: Any) -> None:
        from ..music import check_prompts

        if not isinstance(content, Mapping):
            raise InvalidArgument("clientContent must be an object")
        raw = content.get("weightedPrompts", content.get("weighted_prompts"))
        if not isinstance(raw, list):
            raise InvalidArgument("clientContent.weightedPrompts must be a list")
        prompts: list[tuple[str, float]] = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise InvalidArgument(f"weightedPrompts[{i}] must be an object")
            text, weight = item.get("text"), item.get("weight", 1.0)
            if isinstance(text, str) and not text.strip():
                filtered = {"text": text, "filteredReason": "the prompt text is empty"}
                await self.outbox.put(json.dumps({"filteredPrompt": filtered}))
                continue
            prompts.append((text, weight))  # type: ignore[arg-type]  # checked next
        self.stream.set_prompts(check_prompts(prompts))
        self._wake.set()

    def _control(self, value: Any) -> None:
        if value not in CONTROLS:
            raise InvalidArgument(
                f"playbackControl must be one of {', '.join(CONTROLS)}, not {value!r}"
            )
        if value == "PLAY":
            self.playing = True
        elif value == "PAUSE":
            self.playing = False
        elif value == "STOP":
            self.playing = False
            self._held = b""
            self._epoch += 1
            self.stream.reset_context()
        else:
            self._held = b""
            self._epoch += 1
            self.stream.reset_context()
        self._wake.set()

    async def _play(self) -> None:
        """Render and send chunks while playing, at real time plus :data:`LEAD_S`."""
        seconds = self.stream.chunk_frames / self.stream.sample_rate
        started, sent = time.monotonic(), 0.0
        while True:
            if not (self.playing and self.stream.prompts):
                self._wake.clear()
                await self._wake.wait()
                started, sent = time.monotonic(), 0.0  # a fresh clock after every pause
                continue
            ahead = sent - (time.monotonic() - started)
            if ahead < 0:  # behind (a slow render): go on from now, never send a burst
                started, ahead = time.monotonic() - sent, 0.0
            if ahead > LEAD_S:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):  # a control message wakes it at once
                    await asyncio.wait_for(self._wake.wait(), ahead - LEAD_S)
                continue
            epoch = self._epoch
            pcm = self._held or await asyncio.get_running_loop().run_in_executor(
                self._render, self.stream.next_chunk
            )
            self._held = b""
            if epoch != self._epoch:
                continue  # rendered in the context a STOP or RESET_CONTEXT just ended
            if not self.playing:
                self._held = pcm  # paused while it rendered: it goes first when play resumes
                continue
            await self.outbox.put(self._chunk(pcm))
            self.chunks_sent += 1
            sent += seconds

    def _chunk(self, pcm: bytes) -> str:
        config = self.stream.config
        source = {
            "clientContent": {
                "weightedPrompts": [{"text": t, "weight": w} for t, w in self.stream.prompts]
            },
            "musicGenerationConfig": _config_wire(config),
        }
        chunk = {
            "data": base64.b64encode(pcm).decode(),
            "mimeType": self.stream.mime_type,
            "sourceMetadata": source,
        }
        return json.dumps({"serverContent": {"audioChunks": [chunk]}})


def _decode(frame: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"a music message must be JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidArgument("a music message must be a JSON object")
    known = {_FIELDS[k]: v for k, v in data.items() if k in _FIELDS}
    unknown = sorted(k for k in data if k not in _FIELDS)
    if unknown:
        raise InvalidArgument(f"unknown music message field {unknown[0]!r}")
    if len(known) != 1:
        raise InvalidArgument(
            "a music message has exactly one of clientContent, musicGenerationConfig, "
            f"playbackControl (got {sorted(known) or 'none'})"
        )
    return known


def _config_wire(config: Any) -> dict[str, Any]:
    """The config as its wire (camelCase) fields, through the protocol's own model."""
    fields = {
        name: getattr(value, "name", value)
        for name in MusicGenerationConfig.model_fields
        if (value := getattr(config, name, None)) is not None
    }
    return MusicGenerationConfig(**fields).to_wire()
