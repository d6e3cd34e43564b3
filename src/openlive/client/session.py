"""``AsyncSession``: one Live session from the client side.

A reader task takes every server message off the socket as it arrives, so nothing is lost
between turns: messages wait in the session's queue until :meth:`AsyncSession.receive` takes
them (or go to ``on_message`` when that callback is given). ``receive()`` ends after the message
that completes the turn, like google-genai; ``stream()`` never ends on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
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
    ServerMessage,
    ToolResponse,
)
from .convert import to_blob, to_contents, to_function_responses
from .tools import Tools

__all__ = ["AsyncSession", "LiveCallbacks"]


@dataclass
class LiveCallbacks:
    """Optional callbacks; each may be a plain function or a coroutine function."""

    on_open: Callable[[], Any] | None = None
    on_message: Callable[[ServerMessage], Any] | None = None
    on_error: Callable[[BaseException], Any] | None = None
    on_close: Callable[[int, str], Any] | None = None

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
        }
        return cls(**{name: get(name) or get(js) for name, js in names.items()})


_END = object()
QUEUE_LIMIT = 1024
"""Server messages held for :meth:`AsyncSession.receive`; when full, the reader waits (and
TCP backpressure reaches the server) until the application takes some."""


class AsyncSession:
    def __init__(
        self,
        ws: ClientConnection,
        session_id: str | None,
        callbacks: LiveCallbacks,
        *,
        binary: bool = False,
    ) -> None:
        self._ws = ws
        self.session_id = session_id
        self._callbacks = callbacks
        self._queue: asyncio.Queue[object] = asyncio.Queue(QUEUE_LIMIT)
        self._ended = False
        self._closed_by_user = False
        self._close: tuple[int, str] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tools: Tools | None = None
        self._tool_tasks: dict[str, asyncio.Task[None]] = {}
        self._binary = binary

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
        try:
            async for frame in self._ws:
                try:
                    message = ServerMessage.model_validate_json(frame)
                except ValueError as exc:
                    await self._call(self._callbacks.on_error, exc)
                    continue
                self._on_tools(message)
                if self._callbacks.on_message is not None:
                    await self._call(self._callbacks.on_message, message)
                else:
                    await self._queue.put(message)
        except ConnectionClosed:
            pass
        except Exception as exc:  # transport errors: report, then end like a close
            await self._call(self._callbacks.on_error, exc)
        finally:
            code = self._ws.close_code
            reason = self._ws.close_reason
            if code is None:
                code, reason = 1006, "connection lost"
            self._close = (code, reason or "")
            self._ended = True
            if not self._queue.full():
                self._queue.put_nowait(_END)
            await self._call(self._callbacks.on_close, code, reason)

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
        try:
            await self._ws.send(text.encode() if self._binary else text)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise LiveConnectionClosed(
                rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "connection lost"
            ) from None

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

        ``audio`` bytes are taken as 16 kHz PCM16 mono; ``realtime_input`` takes a whole
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
            ri = RealtimeInput(video=to_blob(video, "image/jpeg"))
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

    async def send_media_stream(self, stream: AsyncIterable[Any]) -> None:
        """Send every chunk an async iterable yields, until it ends."""
        async for chunk in stream:
            await self.send_media_chunks([chunk])
