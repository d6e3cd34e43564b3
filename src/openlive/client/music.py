"""Live music from the client side: ``client.aio.live.music.connect(model=...)``.

A music session (``BidiGenerateMusic``, spec §9) is steered by weighted text prompts and a
generation config while the server streams 48 kHz stereo 16-bit PCM::

    async with client.aio.live.music.connect(model="models/lyria-realtime-exp") as session:
        await session.set_weighted_prompts(prompts=[{"text": "minimal techno", "weight": 1.0}])
        await session.set_music_generation_config(config={"bpm": 120})
        await session.play()
        async for message in session.receive():
            speaker.write(message.audio)

The methods mirror google-genai's ``AsyncMusicSession``; prompts and configs may be dicts
(camelCase or snake_case), objects with the same attributes (google-genai's ``WeightedPrompt``
and ``LiveMusicGenerationConfig``) or ``(text, weight)`` tuples. A reader task takes every
server message off the socket as it arrives; :meth:`AsyncMusicSession.receive` yields them as
:class:`MusicServerMessage` (audio already base64-decoded) until the session ends, and raises
:class:`~openlive.errors.LiveConnectionClosed` when the server closes it. ``client.live.music``
is the synchronous twin.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ..errors import LiveConnectionClosed
from .sync import SyncRunner

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "MUSIC_METHOD",
    "MUSIC_MODEL",
    "AsyncLiveMusic",
    "AsyncMusicSession",
    "AudioChunk",
    "FilteredPrompt",
    "LiveMusic",
    "MusicClientContent",
    "MusicGenerationConfig",
    "MusicServerContent",
    "MusicServerMessage",
    "MusicSession",
    "MusicSourceMetadata",
    "WeightedPrompt",
]

MUSIC_METHOD = "BidiGenerateMusic"
MUSIC_MODEL = "models/lyria-realtime-exp"
"""The model google-genai's music samples use (openlive also serves ``openlive-music``)."""
QUEUE_LIMIT = 1024
"""Server messages held for :meth:`AsyncMusicSession.receive` (about 100 s of audio); when
full, the reader waits and TCP backpressure reaches the server."""

CONFIG_FIELDS = {
    "temperature": "temperature",
    "top_k": "topK",
    "seed": "seed",
    "guidance": "guidance",
    "bpm": "bpm",
    "density": "density",
    "brightness": "brightness",
    "scale": "scale",
    "mute_bass": "muteBass",
    "mute_drums": "muteDrums",
    "only_bass_and_drums": "onlyBassAndDrums",
    "music_generation_mode": "musicGenerationMode",
}
"""``musicGenerationConfig`` fields: snake_case attribute → camelCase wire name."""
_WIRE_TO_ATTR = {wire: attr for attr, wire in CONFIG_FIELDS.items()}
_END = object()


# ---- message types ----


@dataclass(frozen=True)
class WeightedPrompt:
    """One text prompt and its weight (weights are normalised by the server)."""

    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class MusicClientContent:
    weighted_prompts: list[WeightedPrompt] = field(default_factory=list)


@dataclass
class MusicGenerationConfig:
    """The settings of ``musicGenerationConfig`` (None: not set, the server's default)."""

    temperature: float | None = None
    top_k: int | None = None
    seed: int | None = None
    guidance: float | None = None
    bpm: int | None = None
    density: float | None = None
    brightness: float | None = None
    scale: str | None = None
    mute_bass: bool | None = None
    mute_drums: bool | None = None
    only_bass_and_drums: bool | None = None
    music_generation_mode: str | None = None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> MusicGenerationConfig:
        known = {_WIRE_TO_ATTR.get(key, key): value for key, value in data.items()}
        return cls(**{k: v for k, v in known.items() if k in CONFIG_FIELDS})

    def to_wire(self) -> dict[str, Any]:
        """The set fields, camelCase, as sent."""
        return config_to_wire(self)


@dataclass(frozen=True)
class MusicSourceMetadata:
    """What a chunk was generated from: the prompts and config in force."""

    client_content: MusicClientContent | None = None
    music_generation_config: MusicGenerationConfig | None = None


@dataclass(frozen=True)
class AudioChunk:
    data: bytes
    """Raw PCM (16-bit little-endian, 48 kHz interleaved stereo from openlive)."""
    mime_type: str | None = None
    source_metadata: MusicSourceMetadata | None = None


@dataclass(frozen=True)
class MusicServerContent:
    audio_chunks: list[AudioChunk] = field(default_factory=list)


@dataclass(frozen=True)
class FilteredPrompt:
    """A prompt the server dropped, and why."""

    text: str | None = None
    filtered_reason: str | None = None


@dataclass(frozen=True)
class MusicServerMessage:
    """One server message of a music session (the fields it does not carry are None)."""

    setup_complete: dict[str, Any] | None = None
    server_content: MusicServerContent | None = None
    filtered_prompt: FilteredPrompt | None = None
    warning: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    """The message as it arrived (camelCase JSON)."""

    @property
    def audio(self) -> bytes:
        """The PCM of every audio chunk in the message, joined (``b""`` when none)."""
        if self.server_content is None:
            return b""
        return b"".join(chunk.data for chunk in self.server_content.audio_chunks)

    @property
    def audio_chunk(self) -> AudioChunk | None:
        """The first audio chunk (like @google/genai's ``audioChunk``), or None."""
        if self.server_content is None or not self.server_content.audio_chunks:
            return None
        return self.server_content.audio_chunks[0]

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> MusicServerMessage:
        def get(obj: Any, camel: str) -> Any:
            if not isinstance(obj, Mapping):
                return None
            return obj.get(camel, obj.get(_snake(camel)))

        content = get(data, "serverContent")
        server_content = None
        if isinstance(content, Mapping):
            chunks = get(content, "audioChunks") or []
            server_content = MusicServerContent(
                [_chunk(c) for c in chunks if isinstance(c, Mapping)]
            )
        filtered = get(data, "filteredPrompt")
        warning = get(data, "warning")
        setup = get(data, "setupComplete")
        return cls(
            setup_complete=dict(setup) if isinstance(setup, Mapping) else None,
            server_content=server_content,
            filtered_prompt=FilteredPrompt(get(filtered, "text"), get(filtered, "filteredReason"))
            if isinstance(filtered, Mapping)
            else None,
            warning=None if warning is None else str(warning),
            raw=dict(data),
        )


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _chunk(data: Mapping[str, Any]) -> AudioChunk:
    raw = data.get("data") or ""
    pcm = base64.b64decode(raw) if isinstance(raw, str) else bytes(raw)
    meta = data.get("sourceMetadata", data.get("source_metadata"))
    source = None
    if isinstance(meta, Mapping):
        content = meta.get("clientContent", meta.get("client_content"))
        prompts = None
        if isinstance(content, Mapping):
            items = content.get("weightedPrompts", content.get("weighted_prompts")) or []
            prompts = MusicClientContent(
                [
                    WeightedPrompt(str(p.get("text", "")), float(p.get("weight", 1.0)))
                    for p in items
                    if isinstance(p, Mapping)
                ]
            )
        config = meta.get("musicGenerationConfig", meta.get("music_generation_config"))
        source = MusicSourceMetadata(
            prompts,
            MusicGenerationConfig.from_wire(config) if isinstance(config, Mapping) else None,
        )
    mime = data.get("mimeType", data.get("mime_type"))
    return AudioChunk(pcm, None if mime is None else str(mime), source)


# ---- what the client sends ----


def _wire_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, str | int | float) else value.name
    return value


def prompts_to_wire(prompts: Any) -> list[dict[str, Any]]:
    """Weighted prompts as ``weightedPrompts`` items: each a dict with ``text`` (and
    ``weight``), an object with ``.text``/``.weight``, a ``(text, weight)`` pair or a string
    (weight 1). A single prompt may be given without a list."""
    if isinstance(prompts, str | Mapping) or hasattr(prompts, "text"):
        prompts = [prompts]
    if not isinstance(prompts, Iterable):
        raise TypeError(f"prompts must be a list of weighted prompts, not {type(prompts).__name__}")
    out: list[dict[str, Any]] = []
    for item in prompts:
        text: Any
        weight: Any
        if isinstance(item, str):
            text, weight = item, 1.0
        elif isinstance(item, Mapping):
            text, weight = item.get("text"), item.get("weight", 1.0)
        elif isinstance(item, tuple | list) and len(item) == 2:
            text, weight = item
        elif hasattr(item, "text"):
            text, weight = item.text, getattr(item, "weight", 1.0)
        else:
            raise TypeError(f"not a weighted prompt: {item!r}")
        out.append({"text": text, "weight": 1.0 if weight is None else weight})
    return out


def config_to_wire(config: Any) -> dict[str, Any]:
    """A generation config as camelCase ``musicGenerationConfig`` fields, None omitted: a dict
    (camelCase or snake_case keys) or an object with the config's attributes."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        items = [(str(key), value) for key, value in config.items()]
        return {
            CONFIG_FIELDS.get(key, _camel(key)): _wire_value(value)
            for key, value in items
            if value is not None
        }
    out: dict[str, Any] = {}
    for attr, wire in CONFIG_FIELDS.items():
        value = getattr(config, attr, None)
        if value is None:
            value = getattr(config, wire, None)
        if value is not None:
            out[wire] = _wire_value(value)
    return out


# ---- the session ----


class AsyncMusicSession:
    """One live music session (made by :meth:`AsyncLiveMusic.connect`)."""

    def __init__(self, ws: ClientConnection, *, binary: bool = False) -> None:
        self._ws = ws
        self._binary = binary
        self._queue: asyncio.Queue[object] = asyncio.Queue(QUEUE_LIMIT)
        self._reader: asyncio.Task[None] | None = None
        self._close: tuple[int, str] | None = None
        self._closed_by_user = False
        self._ended = False
        self.setup_complete: dict[str, Any] | None = None

    def _start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="openlive-music-reader")

    # ---- state ----

    @property
    def is_closed(self) -> bool:
        return self._close is not None or self._closed_by_user

    @property
    def close_code(self) -> int | None:
        """The close code once the session ended (None while it is open)."""
        return self._close[0] if self._close else None

    @property
    def close_reason(self) -> str | None:
        return self._close[1] if self._close else None

    # ---- sending ----

    async def _send(self, message: dict[str, Any]) -> None:
        if self.is_closed:
            code, reason = self._close or (1000, "session closed by the client")
            raise LiveConnectionClosed(code, reason)
        text = json.dumps(message)
        try:
            await self._ws.send(text.encode() if self._binary else text)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise LiveConnectionClosed(
                rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "connection lost"
            ) from None

    async def set_weighted_prompts(self, prompts: Any) -> None:
        """Steer the music toward ``prompts`` (see :func:`prompts_to_wire` for the forms)."""
        weighted = prompts_to_wire(prompts)
        await self._send({"clientContent": {"weightedPrompts": weighted}})

    async def set_music_generation_config(self, config: Any) -> None:
        """Send a generation config (bpm, scale, density, ...); ``{}`` resets to defaults."""
        await self._send({"musicGenerationConfig": config_to_wire(config)})

    async def _control(self, value: str) -> None:
        await self._send({"playbackControl": value})

    async def play(self) -> None:
        """Start, or resume from where it paused."""
        await self._control("PLAY")

    async def pause(self) -> None:
        """Hold the stream where it is (:meth:`play` resumes it)."""
        await self._control("PAUSE")

    async def stop(self) -> None:
        """Stop and reset the context (prompts and config are kept)."""
        await self._control("STOP")

    async def reset_context(self) -> None:
        """Start the music over from a new phrase without stopping (bpm, scale and seed
        changes take effect here)."""
        await self._control("RESET_CONTEXT")

    # ---- receiving ----

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                try:
                    data = json.loads(frame)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    await self._queue.put(MusicServerMessage.from_wire(data))
        except (ConnectionClosed, OSError):
            pass  # the close code says why
        finally:
            code = self._ws.close_code
            if code is None:
                self._close = (1006, "connection lost")
            else:
                self._close = (code, self._ws.close_reason or "")
            self._ended = True
            if not self._queue.full():
                self._queue.put_nowait(_END)

    async def _next(self) -> MusicServerMessage | None:
        if self._ended and self._queue.empty():
            item: object = _END
        else:
            item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # later calls end the same way
            if self._closed_by_user:
                return None
            code, reason = self._close or (1006, "connection lost")
            raise LiveConnectionClosed(code, reason)
        assert isinstance(item, MusicServerMessage)
        return item

    async def receive(self) -> AsyncIterator[MusicServerMessage]:
        """Server messages as they arrive, until the session ends (quietly after
        :meth:`close`; :class:`~openlive.errors.LiveConnectionClosed` when the server closes)."""
        while (message := await self._next()) is not None:
            yield message

    # ---- lifecycle ----

    async def close(self) -> None:
        """Close the session (code 1000). Safe to call twice."""
        self._closed_by_user = True
        if self._reader is not None:
            # first: a reader waiting for room in a queue nobody reads stops reading the
            # socket, and the close handshake below would then wait for its timeout
            if not self._reader.done():
                self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self._ws.close(1000)

    async def __aenter__(self) -> AsyncMusicSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncLiveMusic:
    """``client.aio.live.music``: opens live music sessions."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @contextlib.asynccontextmanager
    async def connect(self, *, model: str = MUSIC_MODEL) -> AsyncIterator[AsyncMusicSession]:
        """Open a music session: ``async with client.aio.live.music.connect(model=...) as s``.

        The API version is the client's (``v1alpha`` unless it set one). Raises
        :class:`~openlive.errors.LiveConnectionClosed` if the server refuses the session.
        """
        client = self._client
        name = model if "/" in model else f"models/{model}"
        url = client.live_url(MUSIC_METHOD, client.music_api_version)
        ws = await client._open(url)
        session: AsyncMusicSession | None = None
        try:
            session = AsyncMusicSession(ws, binary=client.binary_frames)
            await session._send({"setup": {"model": name}})
            try:
                first = await asyncio.wait_for(ws.recv(), client.open_timeout)
            except TimeoutError:
                raise LiveConnectionClosed(
                    1006, f"no answer to the setup within {client.open_timeout:g} s"
                ) from None
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                raise LiveConnectionClosed(
                    rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "connection lost"
                ) from None
            try:
                data = json.loads(first)
            except ValueError as exc:
                raise LiveConnectionClosed(1002, f"the setup reply is not JSON ({exc})") from None
            message = MusicServerMessage.from_wire(data if isinstance(data, dict) else {})
            session.setup_complete = message.setup_complete
            if message.setup_complete is None:
                session._queue.put_nowait(message)
            session._start()
            yield session
        finally:
            if session is not None:
                await session.close()
            else:
                await ws.close()


class MusicSession:
    """Blocking versions of :class:`AsyncMusicSession`'s methods (``client.live.music``)."""

    def __init__(self, inner: AsyncMusicSession, runner: SyncRunner) -> None:
        self._inner = inner
        self._runner = runner

    @property
    def is_closed(self) -> bool:
        return self._inner.is_closed

    @property
    def close_code(self) -> int | None:
        return self._inner.close_code

    @property
    def close_reason(self) -> str | None:
        return self._inner.close_reason

    def set_weighted_prompts(self, prompts: Any) -> None:
        self._runner.run(self._inner.set_weighted_prompts(prompts))

    def set_music_generation_config(self, config: Any) -> None:
        self._runner.run(self._inner.set_music_generation_config(config))

    def play(self) -> None:
        self._runner.run(self._inner.play())

    def pause(self) -> None:
        self._runner.run(self._inner.pause())

    def stop(self) -> None:
        self._runner.run(self._inner.stop())

    def reset_context(self) -> None:
        self._runner.run(self._inner.reset_context())

    def receive(self) -> Iterator[MusicServerMessage]:
        """Server messages as they arrive, until the session ends (see
        :meth:`AsyncMusicSession.receive`)."""
        while True:
            message = self._runner.run(self._inner._next())
            if message is None:
                return
            yield message

    def close(self) -> None:
        self._runner.run(self._inner.close())

    def __enter__(self) -> MusicSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LiveMusic:
    """``client.live.music``: the synchronous twin of :class:`AsyncLiveMusic`, for scripts."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @contextlib.contextmanager
    def connect(self, *, model: str = MUSIC_MODEL) -> Iterator[MusicSession]:
        runner = SyncRunner()
        try:
            cm = self._client.aio.live.music.connect(model=model)
            asession = runner.run(cm.__aenter__())
            try:
                yield MusicSession(asession, runner)
            finally:
                runner.run(cm.__aexit__(None, None, None))
        finally:
            runner.stop()
