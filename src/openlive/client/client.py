"""``Client``: the entry point of openlive's SDK (``client.aio.live`` and ``client.live``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl as ssl_module
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .. import __version__
from ..errors import LiveConnectionClosed
from ..protocol.codec import encode_client_message
from ..types import ClientMessage, ServerMessage, SessionResumptionConfig, Setup
from .convert import build_setup
from .music import AsyncLiveMusic, LiveMusic
from .reconnect import Reconnect
from .session import AsyncSession, Dial, LiveCallbacks
from .sync import Session, SyncRunner

__all__ = ["AsyncLive", "Client", "Live"]

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
LIVE_METHOD = "BidiGenerateContent"


class Client:
    """A client for an openlive server (or any Live API endpoint).

    ``base_url`` is an ``http(s)://`` or ``ws(s)://`` URL (default: ``$OPENLIVE_BASE_URL`` or
    ``http://127.0.0.1:8080``); ``ssl`` is an :class:`ssl.SSLContext` for ``wss://`` (e.g. one
    trusting openlive's generated certificate). ``api_version`` defaults to ``v1beta`` for Live
    sessions and ``v1alpha`` for live music (``client.aio.live.music``).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        api_version: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
        headers: dict[str, str] | None = None,
        binary_frames: bool = False,
        open_timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url or os.environ.get("OPENLIVE_BASE_URL") or DEFAULT_BASE_URL
        self.api_key = api_key if api_key is not None else os.environ.get("OPENLIVE_API_KEY")
        self.api_version = api_version or "v1beta"
        self.music_api_version = api_version or "v1alpha"
        self.ssl = ssl
        self.headers = dict(headers or {})
        self.binary_frames = binary_frames
        self.open_timeout = open_timeout
        self.aio = _Aio(self)
        self.live = Live(self)

    def live_url(self, method: str = LIVE_METHOD, api_version: str | None = None) -> str:
        parts = urlsplit(self.base_url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        if scheme not in ("ws", "wss"):
            raise ValueError(f"base_url must be http(s):// or ws(s)://, not {self.base_url!r}")
        if self.api_key and self.api_key.startswith("auth_tokens/") and method == LIVE_METHOD:
            method = "BidiGenerateContentConstrained"
        path = (
            f"{parts.path.rstrip('/')}/ws/google.ai.generativelanguage."
            f"{api_version or self.api_version}.GenerativeService.{method}"
        )
        return urlunsplit((scheme, parts.netloc, path, "", ""))

    def _headers(self) -> dict[str, str]:
        headers = {"x-goog-api-client": f"openlive-sdk/{__version__}", **self.headers}
        if self.api_key:
            headers["x-goog-api-key"] = self.api_key
            if self.api_key.startswith("auth_tokens/"):
                headers["Authorization"] = f"Token {self.api_key}"
        return headers

    async def _open(self, url: str) -> ClientConnection:
        """Open a WebSocket to ``url`` with this client's credentials, headers and TLS context
        (a refusal or an unreachable server raises
        :class:`~openlive.errors.LiveConnectionClosed`)."""
        ssl_arg = self.ssl if url.startswith("wss:") else None
        try:
            return await ws_connect(
                url,
                additional_headers=self._headers(),
                ssl=ssl_arg,
                max_size=None,
                open_timeout=self.open_timeout,
                user_agent_header=f"openlive-sdk/{__version__}",
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            raise LiveConnectionClosed(
                1008 if status in (401, 403) else 1011, f"HTTP {status} from {url}"
            ) from exc
        except (OSError, TimeoutError) as exc:
            raise LiveConnectionClosed(1006, f"cannot reach {url}: {exc}") from exc


class _Aio:
    def __init__(self, client: Client) -> None:
        self.live = AsyncLive(client)


class AsyncLive:
    def __init__(self, client: Client) -> None:
        self._client = client
        self.music = AsyncLiveMusic(client)
        """Live music sessions: ``client.aio.live.music.connect(model=...)``."""

    async def _dial(self, setup: Setup) -> tuple[ClientConnection, ServerMessage]:
        """Open a connection, send ``setup``, read the server's first message."""
        ws = await self._client._open(self._client.live_url())
        try:
            await ws.send(encode_client_message(ClientMessage(setup=setup)))
            try:
                first = await ws.recv()
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                raise LiveConnectionClosed(
                    rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "connection lost"
                ) from None
            return ws, ServerMessage.model_validate_json(first)
        except BaseException:
            await ws.close()
            raise

    @contextlib.asynccontextmanager
    async def connect(
        self,
        *,
        model: str,
        config: Any = None,
        callbacks: Any = None,
        reconnect: bool | Reconnect = False,
    ) -> AsyncIterator[AsyncSession]:
        """Open a session: ``async with client.aio.live.connect(model=..., config=...) as s``.

        ``reconnect=True`` (or a :class:`~openlive.client.Reconnect`) makes the session resume
        by itself after a goAway or a dropped connection (docs/sdk.md, "Reconnecting").
        Raises :class:`~openlive.errors.LiveConnectionClosed` if the server refuses the session.
        """
        client = self._client
        setup = build_setup(model, config)
        options = Reconnect.of(reconnect)
        if options is not None and setup.session_resumption is None:
            transparent = True if options.transparent else None
            setup.session_resumption = SessionResumptionConfig(transparent=transparent)
        cbs = LiveCallbacks.of(callbacks)
        ws, message = await self._dial(setup)
        session: AsyncSession | None = None
        try:
            session_id = message.setup_complete.session_id if message.setup_complete else None
            session = AsyncSession(
                ws,
                session_id,
                cbs,
                binary=client.binary_frames,
                reconnect=options,
                dial=self._dial_within(client.open_timeout),
                setup=setup,
            )
            session.setup_complete = message.setup_complete  # type: ignore[attr-defined]
            if message.setup_complete is None:
                session._queue.put_nowait(message)
            session._start()
            await session._call(cbs.on_open)
            if message.setup_complete is not None and cbs.on_message is not None:
                await session._call(cbs.on_message, message)
            yield session
        finally:
            if session is not None:
                await session.close()
            else:
                await ws.close()

    def _dial_within(self, timeout: float) -> Dial:
        async def dial(setup: Setup) -> tuple[ClientConnection, ServerMessage]:
            try:
                return await asyncio.wait_for(self._dial(setup), timeout)
            except TimeoutError:
                raise LiveConnectionClosed(
                    1006, f"no answer to the setup within {timeout:g} s"
                ) from None

        return dial


class Live:
    """The synchronous twin of :class:`AsyncLive`, for scripts."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.music = LiveMusic(client)
        """Live music sessions: ``client.live.music.connect(model=...)``."""

    @contextlib.contextmanager
    def connect(
        self,
        *,
        model: str,
        config: Any = None,
        callbacks: Any = None,
        reconnect: bool | Reconnect = False,
    ) -> Iterator[Session]:
        runner = SyncRunner()
        try:
            cm = self._client.aio.live.connect(
                model=model, config=config, callbacks=callbacks, reconnect=reconnect
            )
            asession = runner.run(cm.__aenter__())
            try:
                yield Session(asession, runner)
            finally:
                runner.run(cm.__aexit__(None, None, None))
        finally:
            runner.stop()
