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
from dataclasses import dataclass
from typing import Protocol

from websockets.exceptions import ConnectionClosed

from ..errors import EngineError, InvalidArgument, ServerFault, SessionError, clip_reason
from ..protocol import decode_client_message, encode_server_message, split_message
from ..session import (
    Action,
    Checkpoint,
    Close,
    EngineEvent,
    InjectFault,
    Note,
    Send,
    SessionProtocol,
)
from ..types import GoAway, ServerMessage, SessionResumptionUpdate
from .faults import PlannedFault
from .keeper import SessionKeeper
from .observer import SessionObserver
from .outbox import CloseFrame, Outbox
from .tasks import TaskOwner

__all__ = ["Keeping", "SessionRuntime", "Transport"]

log = logging.getLogger("openlive.session")

END_GRACE_S = 10.0
"""How long a connection past its lifetime waits for the reply in progress to end."""


class Transport(Protocol):
    """Where frames go (a WebSocket connection)."""

    async def send(self, message: str | bytes) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


@dataclass
class Keeping:
    """How a resumable session is kept in the shared store."""

    keeper: SessionKeeper
    principal: str
    owner: str
    """This connection's hold on the session (a takeover replaces it)."""
    created: float
    """Unix time the session began."""
    handle: str | None = None
    """The latest handle issued (the one resumed from, until a new one is issued)."""
    transparent: bool = False


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
        observer: SessionObserver | None = None,
    ) -> None:
        self.session_id = session_id
        self.observer = observer or SessionObserver()
        self.ended = False
        """True once :meth:`stop` has finished."""
        self.core = core
        self.transport = transport
        self.outbox = Outbox(outbox_limit)
        self.tasks = TaskOwner(self._stage_failed)
        self.binary = binary
        self.vertex = vertex
        self.close_code: int | None = None
        self.close_reason = ""
        self._notes: set[str] = set()
        self.principal = ""
        """Who the session belongs to (limits per API key)."""
        self.keeping: Keeping | None = None
        """Set when the session is resumable (``setup.sessionResumption``)."""
        self.resumed = False
        """The session was restored from the store (its core was taken up, not created)."""
        self.faults: tuple[PlannedFault, ...] = ()
        self.idle_timeout = 0.0
        self.last_input = time.monotonic()
        self._checkpointing = 0
        self._stall_until = 0.0

    # ---- lifecycle ----

    async def start(self) -> None:
        self._writer = self.tasks.spawn(self._write(), f"writer-{self.session_id}")
        for fault in self.faults:
            self.tasks.spawn(self._planned(fault), f"fault {fault.kind}")
        if self.idle_timeout > 0:
            self.tasks.spawn(self._idle_watch(), "idle timeout")
        if self.keeping is not None:
            self.tasks.spawn(self._keep_alive(self.keeping), "resumption keep-alive")
        await self.perform(self.core.start(time.monotonic()))

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
        self.last_input = now
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
            if self.keeping is not None:  # its lifetime counts from now
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        self.keeping.keeper.touch(self.session_id, self.keeping.handle), 5.0
                    )
            log.info("session %s: ended", self.session_id)
            self.ended = True
            self.observer.session_ended(1000 if self.close_code is None else self.close_code)

    # ---- ending on the server's terms ----

    def busy(self) -> bool:
        """A turn is in progress (drain waits for it; the idle timeout does not count)."""
        return bool(getattr(self.core, "generating", False)) or self._checkpointing > 0

    def settled(self) -> bool:
        """Nothing would be lost by closing now: no turn in progress, state kept."""
        if self._checkpointing:
            return False
        resumable = getattr(self.core, "resumable", None)
        return bool(resumable) if resumable is not None else not self.busy()

    async def go_away(self, seconds: float) -> None:
        """Tell the client the connection ends in ``seconds`` (``goAway.timeLeft``)."""
        left = f"{max(0.0, seconds):.3f}".rstrip("0").rstrip(".") + "s"
        await self._send(ServerMessage(go_away=GoAway(time_left=left)))

    def end_after(self, delay: float, code: int, reason: str, notice: float = 0.0) -> None:
        """Close the session ``delay`` seconds from now, with goAway ``notice`` seconds
        before (0: none)."""
        self.tasks.spawn(self._end_after(delay, code, reason, notice), "connection lifetime")

    async def _end_after(self, delay: float, code: int, reason: str, notice: float) -> None:
        notice = min(notice, delay)
        await asyncio.sleep(delay - notice)
        if notice > 0:
            await self.go_away(notice)
            await asyncio.sleep(notice)
        if code == 1000:
            # a lifetime, not a revocation: let a reply in progress finish first (up to
            # END_GRACE_S), so a resumed session never says again what the client already got
            deadline = time.monotonic() + END_GRACE_S
            while not self.settled() and time.monotonic() < deadline and not self.closing:
                await asyncio.sleep(0.05)
        self._close(code, reason)

    async def drain(self, grace: float) -> None:
        """The server is shutting down: goAway, let a turn in progress finish (up to
        ``grace`` seconds), keep the state, close with 1001."""
        if self.closing:
            return
        with contextlib.suppress(Exception):
            await self.go_away(grace)
        deadline = time.monotonic() + grace
        while not self.settled() and time.monotonic() < deadline and not self.closing:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0)  # a checkpoint's update queued just now goes out first
        if self.keeping is not None:
            reason = "server shutting down: resume with your latest handle (another node serves it)"
        else:
            reason = "server shutting down: reconnect to continue"
        self._close(1001, reason)

    def evicted(self, owner: str) -> None:
        """Another connection resumed this session (``owner`` holds it now)."""
        if self.keeping is not None and self.keeping.owner != owner:
            self._close(1000, "the session was resumed on another connection")

    async def _idle_watch(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_timeout / 4))
            idle = time.monotonic() - self.last_input
            if not self.busy() and idle >= self.idle_timeout:
                self._close(1000, f"idle for {self.idle_timeout:g} s: session closed")
                return

    async def _keep_alive(self, keeping: Keeping) -> None:
        while True:
            await asyncio.sleep(max(1.0, keeping.keeper.ttl / 3))
            with contextlib.suppress(Exception):
                await keeping.keeper.touch(self.session_id, keeping.handle)

    async def _planned(self, fault: PlannedFault) -> None:
        await asyncio.sleep(fault.at)
        await self.inject(fault.kind, fault.value)

    async def inject(self, kind: str, value: float) -> None:
        """Perform a fault (see :mod:`openlive.runtime.faults`)."""
        log.info("session %s: injected fault %s %g", self.session_id, kind, value)
        if kind == "goaway":
            await self.go_away(value)
            self.end_after(value, 1000, "connection ended after goAway (injected fault)")
        elif kind == "close":
            code = int(value) or 1011
            self._close(code, f"injected fault: close {code}")
        elif kind == "stall":
            self._stall_until = time.monotonic() + value
        elif kind == "drop":
            transport = getattr(self.transport, "transport", None)
            if transport is not None:
                transport.abort()

    def closing_started(self) -> None:  # noqa: B027 - optional hook
        """The close frame was asked for: stop taking input, and wake anything waiting for
        room in a queue that a stage will no longer drain (the reader may be waiting)."""

    async def release(self) -> None:  # noqa: B027 - optional hook
        """Free per-session engine state (called once, after every task has ended)."""

    def sent(self, message: ServerMessage) -> None:  # noqa: B027 - optional hook
        """A server message was queued for the client (for the observer's reports)."""

    def queue_depths(self) -> dict[str, int]:
        """Items waiting in each of the session's queues (sampled for metrics)."""
        return {"outbox": len(self.outbox)}

    # ---- actions ----

    async def perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                await self._send(action.message)
                self.sent(action.message)
            elif isinstance(action, Close):
                self._close(action.code, action.reason)
            elif isinstance(action, Note):
                self.note_once(action.message)
            elif isinstance(action, Checkpoint):
                await self._checkpoint(action)
            elif isinstance(action, InjectFault):
                await self.inject(action.kind, action.value)
            else:
                await self.handle(action)

    async def _send(self, message: ServerMessage) -> None:
        for piece in split_message(message):
            await self.outbox.put(encode_server_message(piece, vertex=self.vertex))

    async def _checkpoint(self, checkpoint: Checkpoint) -> None:
        """Keep the state (resumable) and tell the client its new handle; or tell it the
        session cannot be resumed right now."""
        keeping = self.keeping
        if keeping is None or self.closing:
            return
        if not checkpoint.resumable:
            await self._send(
                ServerMessage(session_resumption_update=SessionResumptionUpdate(resumable=False))
            )
            return
        self._checkpointing += 1
        try:
            snapshot = self.core.to_json()
            try:
                handle = await asyncio.wait_for(
                    keeping.keeper.save(
                        self.session_id,
                        keeping.owner,
                        keeping.principal,
                        snapshot,
                        keeping.created,
                        keeping.handle,
                    ),
                    10.0,
                )
            except Exception as exc:  # the store is unreachable: the session goes on
                log.warning("session %s: state not kept: %r", self.session_id, exc)
                update = SessionResumptionUpdate(resumable=False)
                await self._send(ServerMessage(session_resumption_update=update))
                return
            if handle is None:
                self._close(1000, "the session was resumed on another connection")
                return
            keeping.handle = handle
            update = SessionResumptionUpdate(new_handle=handle, resumable=True)
            if keeping.transparent and checkpoint.consumed > 0:
                update.last_consumed_client_message_index = str(checkpoint.consumed - 1)
            await self._send(ServerMessage(session_resumption_update=update))
        finally:
            self._checkpointing -= 1

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
            if self._stall_until:
                await asyncio.sleep(max(0.0, self._stall_until - time.monotonic()))
                self._stall_until = 0.0
            try:
                await self.transport.send(item.encode() if self.binary else item)
            except ConnectionClosed:
                return


async def _bounded(task: asyncio.Task[None], timeout: float) -> None:
    done, _ = await asyncio.wait([task], timeout=timeout)
    if not done:
        task.cancel()
