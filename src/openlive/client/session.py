"""``AsyncSession``: one Live session from the client side.

A reader task takes every server message off the socket as it arrives, so nothing is lost
between turns: messages wait in the session's queue until :meth:`AsyncSession.receive` takes
them (or go to ``on_message`` when that callback is given). ``receive()`` ends after the message
that completes the turn, like google-genai; ``stream()`` never ends on its own.

A session opened with ``reconnect`` resumes by itself when its connection ends for a reason
worth retrying (see :mod:`openlive.client.reconnect` and docs/sdk.md, "Reconnecting"): the
reader opens the next connection, sends again what the server had not consumed, and the
application's ``receive()`` loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ..errors import LiveConnectionClosed
from ..protocol.codec import encode_client_message
from ..types import (
    ActivityEnd,
    ActivityStart,
    ClientContent,
    ClientMessage,
    ContextUpdate,
    FunctionCall,
    RealtimeInput,
    ServerContent,
    ServerMessage,
    SessionResumptionConfig,
    Setup,
    ToolResponse,
)
from .convert import to_blob, to_contents, to_function_responses
from .frames import frames, to_image_blob
from .reconnect import (
    RETRYABLE_CODES,
    Reconnect,
    ReconnectFailed,
    ReconnectInfo,
    ReplayBuffer,
    parse_time_left,
)
from .tools import Tools

log = logging.getLogger("openlive.client")

Dial = Callable[[Setup], Awaitable[tuple[ClientConnection, ServerMessage]]]
"""Opens a connection and sends ``setup``; returns it with the server's first message (raises
:class:`~openlive.errors.LiveConnectionClosed` when the server refuses)."""

__all__ = ["AsyncSession", "LiveCallbacks"]


@dataclass
class LiveCallbacks:
    """Optional callbacks; each may be a plain function or a coroutine function."""

    on_open: Callable[[], Any] | None = None
    on_message: Callable[[ServerMessage], Any] | None = None
    on_error: Callable[[BaseException], Any] | None = None
    on_close: Callable[[int, str], Any] | None = None
    on_reconnect: Callable[[ReconnectInfo], Any] | None = None
    """A reconnecting session resumed on a new connection (see :class:`ReconnectInfo`)."""

    @classmethod
    def of(cls, value: Any) -> LiveCallbacks:
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value

        def get(key: str) -> Any:
            if isinstance(value, Mapping):
                return value.get(key)
            return getattr(value, key, None)

        names = {
            "on_open": "onopen",
            "on_message": "onmessage",
            "on_error": "onerror",
            "on_close": "onclose",
            "on_reconnect": "onreconnect",
        }
        return cls(**{name: get(name) or get(js) for name, js in names.items()})


_END = object()
QUEUE_LIMIT = 1024
"""Server messages held for :meth:`AsyncSession.receive`; when full, the reader waits (and
TCP backpressure reaches the server) until the application takes some."""
RESUMED_UPDATE_WAIT = 2.0
"""Seconds a resuming session waits for the resumed state's consumed index before it sends
messages again (openlive sends it at once; a server that does not costs this wait once)."""


class AsyncSession:
    def __init__(
        self,
        ws: ClientConnection,
        session_id: str | None,
        callbacks: LiveCallbacks,
        *,
        binary: bool = False,
        reconnect: Reconnect | None = None,
        dial: Dial | None = None,
        setup: Setup | None = None,
    ) -> None:
        self._ws = ws
        """The current connection (the last one, once the session ended)."""
        self.session_id = session_id
        self._callbacks = callbacks
        self._queue: asyncio.Queue[object] = asyncio.Queue(QUEUE_LIMIT)
        self._ended = False
        self._closed_by_user = False
        self._close: tuple[int, str] | None = None
        self._error: ReconnectFailed | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tools: Tools | None = None
        self._tool_tasks: dict[str, asyncio.Task[None]] = {}
        self._binary = binary
        # ---- resumption ----
        self.resumption_handle: str | None = None
        """The latest handle the server issued (``sessionResumptionUpdate.newHandle``)."""
        self.reconnects = 0
        """How many times the session resumed on a new connection (with ``reconnect``)."""
        self._reconnect = reconnect if dial is not None and setup is not None else None
        self._dial = dial
        self._setup = setup
        self._conn: ClientConnection | None = ws
        """Where messages are sent now; None while a reconnecting session is between
        connections (messages are held, and sent once the next connection is up)."""
        self._send_lock = asyncio.Lock()
        self._replay = (
            ReplayBuffer(self._reconnect.transparent, self._reconnect.replay_limit)
            if self._reconnect is not None
            else None
        )
        self._handle_consumed = -1
        """Index of the last client message the state behind ``resumption_handle`` holds."""
        self._resumable = False
        self._goaway_seen = False
        self._move_by: float | None = None
        """After a goAway: when (monotonic) to move to a new connection at the latest."""
        self._turn_open = False
        self._failures = 0
        self._progress_mark = -1
        self._closing_old: set[asyncio.Task[None]] = set()

    # ---- lifecycle ----

    def _start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="openlive-reader")

    @property
    def is_closed(self) -> bool:
        return self._close is not None or self._closed_by_user

    @property
    def close_code(self) -> int | None:
        return self._close[0] if self._close else None

    @property
    def close_reason(self) -> str | None:
        return self._close[1] if self._close else None

    def use_tools(self, tools: Tools) -> None:
        """Answer the model's tool calls automatically by calling ``tools`` (the messages
        still reach :meth:`receive` too, so the application can show them)."""
        self._tools = tools

    def _on_tools(self, message: ServerMessage) -> None:
        if self._tools is None:
            return
        if message.tool_call is not None:
            for call in message.tool_call.function_calls:
                key = call.id or call.name
                task = asyncio.create_task(self._answer(self._tools, call))
                self._tool_tasks[key] = task
                task.add_done_callback(functools.partial(self._forget, key))
        if message.tool_call_cancellation is not None:
            for call_id in message.tool_call_cancellation.ids:
                running = self._tool_tasks.pop(call_id, None)
                if running is not None:
                    running.cancel()

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        if self._tool_tasks.get(key) is task:
            del self._tool_tasks[key]

    async def _answer(self, tools: Tools, call: FunctionCall) -> None:
        response = await tools.call(call)
        with contextlib.suppress(LiveConnectionClosed):
            await self.send_tool_response(function_responses=[response])

    async def close(self) -> None:
        """Close the session (code 1000). Safe to call twice."""
        self._closed_by_user = True
        for task in list(self._tool_tasks.values()):
            task.cancel()
        await self._ws.close(1000)
        if self._reader is not None:
            if not self._reader.done():
                self._reader.cancel()  # it may be waiting for room in a queue nobody reads
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self._ws.close(1000)  # the reader may have been opening another one
        for task in list(self._closing_old):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, fn: Callable[..., Any] | None, *args: Any) -> None:
        if fn is None:
            return
        result = fn(*args)
        if inspect.isawaitable(result):
            await result

    async def _read(self) -> None:
        ending: tuple[int, str] | None = None
        try:
            while True:
                code, reason, moving = await self._read_connection(self._ws)
                ending = (code, reason)
                if self._closed_by_user or not (moving or self._should_resume(code)):
                    break
                try:
                    await self._resume(code, reason, moving)
                except ReconnectFailed as exc:
                    self._error = exc
                    ending = (exc.code, exc.reason)
                    break
        finally:
            if ending is None or self._closed_by_user:
                last = self._ws.close_code
                if last is None:
                    ending = (1006, "connection lost")
                else:
                    ending = (last, self._ws.close_reason or "")
            self._close = ending
            self._conn = None
            self._ended = True
            if not self._queue.full():
                self._queue.put_nowait(_END)
            await self._call(self._callbacks.on_close, *ending)

    async def _read_connection(self, ws: ClientConnection) -> tuple[int, str, bool]:
        """Deliver one connection's messages until it ends; its close code and reason, and
        whether the session is moving to a new connection after a goAway (True) or the
        connection ended (False)."""
        self._goaway_seen = False
        self._move_by = None
        moving = False
        overdue = False
        try:
            while True:
                if self._move_by is None or moving or overdue:
                    frame = await ws.recv()
                else:
                    left = self._move_by - time.monotonic()
                    if left <= 0:
                        if self._turn_open:
                            # a reply is streaming: leaving now would make the resumed session
                            # say it again; move once it ends (or when the server closes)
                            overdue = True
                            continue
                        moving = await self._start_move(ws)
                        continue
                    try:
                        frame = await asyncio.wait_for(ws.recv(), left)
                    except TimeoutError:
                        continue
                try:
                    message = ServerMessage.model_validate_json(frame)
                except ValueError as exc:
                    await self._call(self._callbacks.on_error, exc)
                    continue
                self._observe(message)
                await self._deliver(message)
                if not moving and self._move_by is not None and self._settled():
                    moving = await self._start_move(ws)
        except ConnectionClosed:
            pass
        except Exception as exc:  # transport errors: report, then end like a close
            await self._call(self._callbacks.on_error, exc)
        if moving:
            return 1000, "moved to a new connection after goAway", True
        code = ws.close_code
        if code is None:
            return 1006, "connection lost", False
        return code, ws.close_reason or "", False

    def _settled(self) -> bool:
        """The session can move now: the server said it is resumable, and (transparent
        resumption) its latest handle holds every message sent other than audio and video
        chunks (those stream on; a handle is only issued when the state changes). A message
        sent but not yet in a handle may already be answered on this connection: moving then
        would cut that answer off, or make the new connection answer it a second time."""
        if not self._resumable:
            return False
        replay = self._replay
        return (
            replay is None
            or not replay.transparent
            or (replay.last_non_media <= self._handle_consumed)
        )

    async def _start_move(self, ws: ClientConnection) -> bool:
        """After a goAway, at a resumable point (or at the latest before timeLeft runs out):
        hold further messages, close this connection, and read what it still delivers (a
        handle issued meanwhile is the one to resume with)."""
        async with self._send_lock:
            self._conn = None
        task = asyncio.create_task(ws.close(1000))
        self._closing_old.add(task)
        task.add_done_callback(self._closing_old.discard)
        return True

    async def _deliver(self, message: ServerMessage) -> None:
        self._on_tools(message)
        if self._callbacks.on_message is not None:
            await self._call(self._callbacks.on_message, message)
        else:
            await self._queue.put(message)

    # ---- resuming ----

    def _observe(self, message: ServerMessage) -> None:
        """Track what resuming needs: the latest handle, what it consumed, goAway."""
        update = message.session_resumption_update
        if update is not None:
            self._resumable = bool(update.resumable)
            if not update.resumable:
                self._turn_open = True  # the server is working on a reply
            if update.new_handle:
                self.resumption_handle = update.new_handle
                consumed = -1
                with contextlib.suppress(ValueError, TypeError):
                    consumed = int(update.last_consumed_client_message_index or -1)
                self._handle_consumed = consumed
                if self._replay is not None:
                    self._replay.consumed(consumed)
                if consumed > self._progress_mark:
                    self._failures = 0
        sc = message.server_content
        if sc is not None:
            if sc.turn_complete:
                self._turn_open = False
                self._failures = 0
            elif sc.interrupted:
                self._turn_open = False
            elif sc.model_turn is not None or sc.output_transcription is not None:
                self._turn_open = True
        if message.go_away is not None and self._reconnect is not None:
            self._goaway_seen = True
            left = parse_time_left(message.go_away.time_left)
            if left is None:
                left = 2 * self._reconnect.goaway_margin
            margin = min(self._reconnect.goaway_margin, left / 5)
            self._move_by = time.monotonic() + left - margin

    def _should_resume(self, code: int) -> bool:
        """A connection that ended with ``code`` is worth resuming (not a close the
        application asked for, nor a deliberate refusal)."""
        if self._reconnect is None or self._closed_by_user:
            return False
        if code in RETRYABLE_CODES:
            return True
        return code in (1000, 1005) and self._goaway_seen

    async def _resume(self, code: int, reason: str, moving: bool) -> None:
        """Open the next connection with the latest handle and send again what the server
        had not consumed; raises :class:`ReconnectFailed` when that cannot be done."""
        opts, dial, base, replay = self._reconnect, self._dial, self._setup, self._replay
        assert opts is not None and dial is not None and base is not None and replay is not None
        old = self._ws
        interrupted = self._turn_open
        self._conn = None  # hold messages until the next connection is up
        if moving:
            self._failures = 0
        attempt = 0
        last_code, last_reason = code, reason
        frames: list[str | bytes] = []
        early: list[ServerMessage] = []
        lost = 0
        log.info("session %s: connection ended (%s %s): resuming", self.session_id, code, reason)
        try:
            while True:
                if self.resumption_handle is None:
                    raise ReconnectFailed(
                        code,
                        f"{reason or 'connection lost'} (cannot resume: the server issued "
                        "no session resumption handle)",
                        attempt,
                    )
                if self._failures >= opts.max_attempts:
                    raise ReconnectFailed(
                        last_code,
                        f"gave up resuming the session after {self._failures} attempts "
                        f"without progress; last: {last_code} {last_reason}".strip(),
                        attempt,
                    )
                await asyncio.sleep(opts.delay(self._failures))
                self._failures += 1
                attempt += 1
                resumption = SessionResumptionConfig(
                    handle=self.resumption_handle, transparent=True if opts.transparent else None
                )
                setup = base.model_copy(update={"session_resumption": resumption})
                try:
                    ws, first = await dial(setup)
                except LiveConnectionClosed as exc:
                    last_code, last_reason = exc.code, exc.reason
                    if exc.code in (1007, 1008):
                        raise ReconnectFailed(
                            exc.code, f"the server refused to resume: {exc.reason}", attempt
                        ) from None
                    log.info("session %s: resuming failed: %s", self.session_id, exc)
                    continue
                if first.setup_complete is None:
                    await ws.close()
                    last_code, last_reason = 1011, "the server did not answer setupComplete"
                    continue
                try:
                    early = await self._resumed_state(ws)
                    async with self._send_lock:
                        frames, lost = replay.to_replay(self._handle_consumed)
                        for frame in frames:
                            await ws.send(frame)
                        replay.replayed()
                        self._ws = self._conn = ws
                except ConnectionClosed as exc:
                    rcvd = exc.rcvd
                    last_code = rcvd.code if rcvd else 1006
                    last_reason = rcvd.reason if rcvd else "connection lost while resuming"
                    continue
                except BaseException:
                    await ws.close()
                    raise
                break
        finally:  # the old connection is dead, or going away (and taken over)
            task = asyncio.create_task(old.close(1000))
            self._closing_old.add(task)
            task.add_done_callback(self._closing_old.discard)
        self.reconnects += 1
        self._progress_mark = self._handle_consumed
        self._turn_open = False
        self._resumable = False
        log.info(
            "session %s: resumed (attempt %d, %d messages sent again)",
            self.session_id,
            attempt,
            len(frames),
        )
        if interrupted:
            # the turn in progress was cut: say so, and end it if nothing sent again will
            # make the server answer it anew
            content = ServerContent(interrupted=True, turn_complete=None if frames else True)
            await self._deliver(ServerMessage(server_content=content))
        for message in early:
            self._observe(message)
            await self._deliver(message)
        info = ReconnectInfo(attempt, code, reason, len(frames), interrupted, lost)
        await self._call(self._callbacks.on_reconnect, info)

    async def _resumed_state(self, ws: ClientConnection) -> list[ServerMessage]:
        """What the resumed state holds, before anything is sent again. A handle still in its
        grace (the newer one was lost with the old connection) resumes the session's latest
        state, which may hold messages the SDK has not seen consumed; the server says which
        in the ``sessionResumptionUpdate`` it sends right after ``setupComplete``. Waits for
        it at most ``RESUMED_UPDATE_WAIT`` seconds, and only when there is something to send
        again; returns the messages read meanwhile, for delivery."""
        replay = self._replay
        if (
            replay is None
            or not replay.transparent
            or not replay.to_replay(self._handle_consumed)[0]
        ):
            return []
        try:
            frame = await asyncio.wait_for(ws.recv(), RESUMED_UPDATE_WAIT)
            message = ServerMessage.model_validate_json(frame)
        except (TimeoutError, ValueError):
            return []  # no word of it: send again all the old handle did not hold
        update = message.session_resumption_update
        if update is not None and update.new_handle:
            self._observe(message)
        return [message]

    # ---- receiving ----

    async def _next(self) -> ServerMessage | None:
        if self._callbacks.on_message is not None:
            raise RuntimeError("this session delivers messages to on_message; receive() is unused")
        if self._ended and self._queue.empty():
            item: object = _END
        else:
            item = await self._queue.get()
        if item is _END:
            if self._closed_by_user:
                return None
            if self._error is not None:
                error = self._error
                raise ReconnectFailed(error.code, error.reason, error.attempts)
            code, reason = self._close or (1006, "connection lost")
            raise LiveConnectionClosed(code, reason)
        assert isinstance(item, ServerMessage)
        return item

    async def receive(self) -> AsyncIterator[ServerMessage]:
        """Messages up to and including the one that completes the current turn.

        Raises :class:`~openlive.errors.LiveConnectionClosed` if the server closes the session.
        """
        while (message := await self._next()) is not None:
            yield message
            sc = message.server_content
            if sc is not None and sc.turn_complete:
                return

    async def stream(self) -> AsyncIterator[ServerMessage]:
        """Every message until the session closes (ends quietly after :meth:`close`)."""
        while (message := await self._next()) is not None:
            yield message

    # ---- sending ----

    async def _send(self, message: ClientMessage) -> None:
        if self.is_closed:
            code, reason = self._close or (1000, "session closed by the client")
            raise LiveConnectionClosed(code, reason)
        text = encode_client_message(message)
        frame: str | bytes = text.encode() if self._binary else text
        if self._replay is None:
            try:
                await self._ws.send(frame)
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                raise LiveConnectionClosed(
                    rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "connection lost"
                ) from None
            return
        async with self._send_lock:
            if self.is_closed:
                code, reason = self._close or (1000, "session closed by the client")
                raise LiveConnectionClosed(code, reason)
            if message.client_content is not None and message.client_content.turn_complete:
                self._turn_open = True  # a reply is owed
            conn = self._conn
            index = self._replay.add(frame, sent=conn is not None, media=_is_media(message))
            if conn is None:
                return  # between connections: sent once the next one is up
            try:
                await conn.send(frame)
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                code = rcvd.code if rcvd else 1006
                if not self._should_resume(code):
                    raise LiveConnectionClosed(
                        code, rcvd.reason if rcvd else "connection lost"
                    ) from None
                self._replay.mark_unsent(index, frame)  # the reader resumes the session

    async def send_client_content(
        self,
        turns: Any = None,
        turn_complete: bool = True,
        *,
        client_content: Any = None,
    ) -> None:
        """Append turns to the conversation; ``turn_complete=True`` asks for a reply."""
        if client_content is not None:
            cc = (
                client_content
                if isinstance(client_content, ClientContent)
                else ClientContent.model_validate(client_content)
            )
        else:
            contents = to_contents(turns)
            cc = ClientContent(turns=contents or None, turn_complete=turn_complete)
        await self._send(ClientMessage(client_content=cc))

    async def send_realtime_input(
        self,
        *,
        audio: Any = None,
        video: Any = None,
        media: Any = None,
        text: str | None = None,
        activity_start: Any = None,
        activity_end: Any = None,
        audio_stream_end: bool | None = None,
        realtime_input: Any = None,
        media_chunks: Iterable[Any] | None = None,
    ) -> None:
        """Stream one input: exactly one of the keyword arguments.

        ``audio`` bytes are taken as 16 kHz PCM16 mono; ``video`` is one image: JPEG, PNG or
        WebP bytes, a path to such a file, a Pillow image, or a blob (see
        :func:`~openlive.client.frames.to_image_blob`); ``realtime_input`` takes a whole
        realtimeInput mapping (``{"mediaChunks": [...]}`` and the like) for loose callers.
        """
        given = {
            k: v
            for k, v in {
                "audio": audio,
                "video": video,
                "media": media,
                "text": text,
                "activity_start": activity_start,
                "activity_end": activity_end,
                "audio_stream_end": audio_stream_end,
                "realtime_input": realtime_input,
                "media_chunks": media_chunks,
            }.items()
            if v is not None and v is not False
        }
        if len(given) != 1:
            raise ValueError(
                "send_realtime_input takes exactly one of audio, video, media, text, "
                f"activity_start, activity_end, audio_stream_end (got {sorted(given) or 'none'})"
            )
        ri: RealtimeInput
        if realtime_input is not None:
            ri = (
                realtime_input
                if isinstance(realtime_input, RealtimeInput)
                else RealtimeInput.model_validate(realtime_input)
            )
            if ri.media_chunks:
                ri.media_chunks = [to_blob(b) for b in ri.media_chunks]
            if ri.audio is not None:
                ri.audio = to_blob(ri.audio)
        elif audio is not None:
            ri = RealtimeInput(audio=to_blob(audio))
        elif video is not None:
            ri = RealtimeInput(video=to_image_blob(video))
        elif media is not None:
            ri = RealtimeInput(media_chunks=[to_blob(media)])
        elif media_chunks is not None:
            ri = RealtimeInput(media_chunks=[to_blob(b) for b in media_chunks])
        elif text is not None:
            ri = RealtimeInput(text=text)
        elif activity_start is not None:
            ri = RealtimeInput(activity_start=ActivityStart())
        elif activity_end is not None:
            ri = RealtimeInput(activity_end=ActivityEnd())
        else:
            ri = RealtimeInput(audio_stream_end=True)
        await self._send(ClientMessage(realtime_input=ri))

    async def send_tool_response(
        self,
        function_responses: Any = None,
        *,
        tool_response: Any = None,
    ) -> None:
        """Answer tool calls (each response carries the call's ``id``)."""
        if tool_response is not None:
            tr = (
                tool_response
                if isinstance(tool_response, ToolResponse)
                else ToolResponse.model_validate(tool_response)
            )
        else:
            tr = ToolResponse(function_responses=to_function_responses(function_responses))
        await self._send(ClientMessage(tool_response=tr))

    async def send_context_update(
        self,
        system_instruction: Any = None,
        tools: Any = None,
    ) -> None:
        si = to_contents(system_instruction)[0] if system_instruction is not None else None
        await self._send(
            ClientMessage(context_update=ContextUpdate(system_instruction=si, tools=tools))
        )

    async def send(self, message: Any = None, turn_complete: bool = True) -> None:
        """Send a whole client message, or (Firebase style) text/parts as a user turn.

        ``message`` may be a :class:`~openlive.types.ClientMessage`, a mapping with one
        top-level message key (``{"clientContent": ...}``), or text / parts / a content, which
        is sent as ``clientContent`` with ``turn_complete`` (default ``True``, as Firebase does).
        """
        if isinstance(message, ClientMessage):
            await self._send(message)
            return
        if isinstance(message, Mapping) and any(
            k in message
            for k in (
                "setup",
                "clientContent",
                "client_content",
                "realtimeInput",
                "realtime_input",
                "toolResponse",
                "tool_response",
                "contextUpdate",
                "context_update",
            )
        ):
            await self._send(ClientMessage.model_validate(message))
            return
        await self.send_client_content(turns=message, turn_complete=turn_complete)

    async def send_media_chunks(self, chunks: Iterable[Any]) -> None:
        """One ``realtimeInput.mediaChunks`` message per chunk (as Firebase does)."""
        for chunk in chunks:
            await self._send(
                ClientMessage(realtime_input=RealtimeInput(media_chunks=[to_blob(chunk)]))
            )

    async def stream_frames(self, source: Any, fps: float = 1.0, **options: Any) -> int:
        """Send every frame of ``source`` as ``realtimeInput.video``, ``fps`` a second, and
        return how many were sent.

        ``source`` is a folder of images, a video file, ``"screen"``, or an iterable of images
        (bytes, paths, Pillow images, blobs); ``options`` go to
        :func:`~openlive.client.frames.frames` (``max_side=1280``, ``loop=False``). It returns
        when the source ends; the screen or a looping source streams until the task running it
        is cancelled or the session closes (:class:`~openlive.errors.LiveConnectionClosed`).
        Raises :class:`~openlive.client.NoScreenError` where there is no screen to capture.
        """
        sent = 0
        stream = frames(source, fps, **options)
        try:
            async for blob in stream:
                await self._send(ClientMessage(realtime_input=RealtimeInput(video=blob)))
                sent += 1
        finally:
            await stream.aclose()
        return sent

    async def send_media_stream(self, stream: AsyncIterable[Any]) -> None:
        """Send every chunk an async iterable yields, until it ends."""
        async for chunk in stream:
            await self.send_media_chunks([chunk])


def _is_media(message: ClientMessage) -> bool:
    """An audio or video chunk and nothing else."""
    ri = message.realtime_input
    if ri is None or not (ri.audio or ri.video or ri.media_chunks):
        return False
    return ri.text is None and not (ri.activity_start or ri.activity_end or ri.audio_stream_end)
