"""The runtime of one session: the asyncio side of a sans-I/O session core.

It owns every task of its session (the writer, and whatever stages the protocol adds), feeds
the core client messages and engine events, performs the actions the core returns, and ends
the session exactly once, with one close frame. An unexpected failure in any stage closes the
session with 1011 and a reason naming the stage; other sessions are not touched.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from typing import Protocol

from websockets.exceptions import ConnectionClosed

from ..errors import EngineError, InvalidArgument, ServerFault, SessionError, clip_reason
from ..protocol import decode_client_message, encode_server_message, split_message
from ..session import Action, Close, EngineEvent, Note, Send, SessionProtocol
from .outbox import CloseFrame, Outbox
from .tasks import TaskOwner

__all__ = ["SessionRuntime", "Transport"]

log = logging.getLogger("openlive.session")


class Transport(Protocol):
    """Where frames go (a WebSocket connection)."""

    async def send(self, message: str | bytes) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class SessionRuntime(abc.ABC):
    """Drives one session core. Subclasses perform the protocol's own actions."""

    stop_timeout = 5.0
    """How long ending a session waits for its tasks to stop after cancelling them."""

    def __init__(
        self,
        session_id: str,
        core: SessionProtocol,
        transport: Transport,
        *,
        outbox_limit: int = 256,
        binary: bool = False,
        vertex: bool = False,
    ) -> None:
        self.session_id = session_id
        self.core = core
        self.transport = transport
        self.outbox = Outbox(outbox_limit)
        self.tasks = TaskOwner(self._stage_failed)
        self.binary = binary
        self.vertex = vertex
        self.close_code: int | None = None
        self.close_reason = ""
        self._notes: set[str] = set()

    # ---- lifecycle ----

    async def start(self) -> None:
        self._writer = self.tasks.spawn(self._write(), f"writer-{self.session_id}")
        await self.perform(self.core.start())

    async def resume(self) -> None:
        """Carry on a session restored from a snapshot (instead of :meth:`start`): restart
        the work it had in flight."""
        self._writer = self.tasks.spawn(self._write(), f"writer-{self.session_id}")
        await self.perform(self.core.resume(time.monotonic()))

    @property
    def closing(self) -> bool:
        return self.outbox.closing

    async def receive(self, frame: str | bytes) -> None:
        """One client frame. Returns when its actions are performed: while the session's
        queues are full it waits, and so does the reader that called it (backpressure)."""
        now = time.monotonic()
        try:
            message = decode_client_message(frame)
        except InvalidArgument as exc:
            log.info("session %s: bad frame: %s", self.session_id, exc.reason)
            await self.perform(self.core.fail(exc))
            return
        await self.perform(self.core.receive_client(message, now))

    async def event(self, event: EngineEvent) -> None:
        """An engine event from one of the stages."""
        await self.perform(self.core.receive_engine(event, time.monotonic()))

    async def fail(self, exc: SessionError) -> None:
        await self.perform(self.core.fail(exc))

    async def stop(self) -> None:
        """End the session: the client is gone or the close frame was asked for. Cancels and
        awaits every task, sends the close frame (1000 if none was asked for), releases what
        the engines keep for this session."""
        await self.perform(self.core.client_closed(time.monotonic()))
        await self.tasks.close(self.stop_timeout, keep=self._writer)
        self.outbox.request_close(1000, "")
        try:
            await _bounded(self._writer, 10.0)
        finally:
            await self.tasks.close(0.5)
            await self.release()
            log.info("session %s: ended", self.session_id)

    def closing_started(self) -> None:  # noqa: B027 - optional hook
        """The close frame was asked for: stop taking input, and wake anything waiting for
        room in a queue that a stage will no longer drain (the reader may be waiting)."""

    async def release(self) -> None:  # noqa: B027 - optional hook
        """Free per-session engine state (called once, after every task has ended)."""

    # ---- actions ----

    async def perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                for piece in split_message(action.message):
                    await self.outbox.put(encode_server_message(piece, vertex=self.vertex))
            elif isinstance(action, Close):
                self._close(action.code, action.reason)
            elif isinstance(action, Note):
                self.note_once(action.message)
            else:
                await self.handle(action)

    @abc.abstractmethod
    async def handle(self, action: Action) -> None:
        """Perform an action specific to the protocol."""

    def note_once(self, message: str) -> None:
        if message not in self._notes:
            self._notes.add(message)
            log.info("session %s: %s", self.session_id, message)

    def _close(self, code: int, reason: str) -> None:
        if self.outbox.request_close(code, reason):
            self.close_code, self.close_reason = code, reason
            self.closing_started()
            level = logging.INFO if code in (1000, 1008) else logging.WARNING
            log.log(level, "session %s: closing %d %s", self.session_id, code, reason)

    async def _stage_failed(self, stage: str, exc: BaseException) -> None:
        if isinstance(exc, SessionError):
            fault = exc
        elif isinstance(exc, EngineError):
            log.warning("session %s: %s failed: %s", self.session_id, stage, exc)
            fault = ServerFault(f"{stage} failed: {exc}")
        else:
            log.error("session %s: %s crashed", self.session_id, stage, exc_info=exc)
            fault = ServerFault(
                clip_reason(
                    f"{stage} failed ({type(exc).__name__}: {exc}); session {self.session_id}"
                )
            )
        if stage.startswith("writer"):
            # the writer is gone: the close frame goes out directly
            self._close(fault.code, fault.reason)
            with contextlib.suppress(Exception):
                await self.transport.close(fault.code, fault.reason)
            return
        await self.perform(self.core.fail(fault))
        self._close(fault.code, fault.reason)  # the core was already closed: close anyway

    async def _write(self) -> None:
        while True:
            item = await self.outbox.get()
            if isinstance(item, CloseFrame):
                with contextlib.suppress(ConnectionClosed):
                    await self.transport.close(item.code, item.reason)
                return
            try:
                await self.transport.send(item.encode() if self.binary else item)
            except ConnectionClosed:
                return


async def _bounded(task: asyncio.Task[None], timeout: float) -> None:
    done, _ = await asyncio.wait([task], timeout=timeout)
    if not done:
        task.cancel()
