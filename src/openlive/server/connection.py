"""One WebSocket connection: setup, credentials and limits, then a session runtime.

The connection knows nothing of what a session does: it reads the first message, checks the
credential, asks the route's opener for a :class:`~openlive.runtime.SessionRuntime`, then hands
it every frame. Each frame is awaited, so while a session's queues are full the connection
stops reading and TCP backpressure reaches the client. However the session ends (client gone,
refusal, failure), the runtime is stopped: its tasks cancelled and awaited, one close frame.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ..errors import InvalidArgument, PolicyViolation, ServerFault, SessionError
from ..protocol import KeyChecker, Method, Route, decode_client_message
from ..protocol.credentials import EPHEMERAL_REFUSAL, extract_credential
from ..runtime import SessionRuntime
from ..types import ClientMessage

__all__ = ["Connection", "ConnectionServices", "Opener"]

log = logging.getLogger("openlive.session")

Opener = Callable[[str, ClientMessage, Route, ServerConnection], Awaitable[SessionRuntime]]
"""Builds the runtime of a session from its id, first message, route and connection (raises
:class:`SessionError` to refuse it)."""


@dataclass
class ConnectionServices:
    """What a connection needs from the server."""

    keys: KeyChecker
    openers: dict[Method, Opener]
    setup_timeout: float = 30.0


class Connection:
    def __init__(self, services: ConnectionServices, ws: ServerConnection, route: Route) -> None:
        self.services = services
        self.ws = ws
        self.route = route
        self.session_id = secrets.token_urlsafe(12)

    async def run(self) -> None:
        try:
            runtime = await self._open()
        except SessionError as exc:
            level = logging.INFO if exc.code in (1007, 1008) else logging.WARNING
            log.log(level, "session %s: refused %d %s", self.session_id, exc.code, exc.reason)
            await self.ws.close(exc.code, exc.reason)
            return
        except ConnectionClosed:
            return
        try:
            await runtime.start()
            async for frame in self.ws:
                if runtime.closing:
                    break
                await runtime.receive(frame)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("session %s: internal error", self.session_id)
            await runtime.fail(ServerFault(f"internal error (session {self.session_id}); see log"))
        finally:
            await runtime.stop()

    async def _open(self) -> SessionRuntime:
        request = self.ws.request
        assert request is not None
        credential = extract_credential(request.path, dict(request.headers.raw_items()))
        # Refusals wait for the first frame: the official clients send setup and then read,
        # so a close that arrives before their send surfaces as a transport error instead of
        # the reason.
        timeout = self.services.setup_timeout
        try:
            first = await asyncio.wait_for(self.ws.recv(), timeout=timeout)
        except TimeoutError:
            raise InvalidArgument(f"no setup message within {timeout:g} s of connecting") from None
        opener = self.services.openers.get(self.route.method)
        if opener is None:
            raise PolicyViolation(_unserved(self.route.method))
        self.services.keys.check(credential)
        message = decode_client_message(first)
        if message.setup is None:
            raise InvalidArgument(f"the first message must be setup, not {message.kind}")
        if not message.setup.model:
            raise InvalidArgument("setup.model is required")
        return await opener(self.session_id, message, self.route, self.ws)


def _unserved(method: Method) -> str:
    if method is Method.MUSIC:
        return "BidiGenerateMusic (Lyria RealTime) is not served by openlive yet"
    if method is Method.LIVE_CONSTRAINED:
        return EPHEMERAL_REFUSAL
    return f"{method.value} is not served by openlive"
