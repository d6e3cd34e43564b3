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
from ..protocol import Grant, KeyChecker, Method, Route, decode_client_message
from ..protocol.credentials import EPHEMERAL_REFUSAL, Credential, extract_credential
from ..runtime import SessionRuntime
from ..types import ClientMessage
from .logs import SESSION_ID

__all__ = ["Authorizer", "Connection", "ConnectionServices", "Opener"]

log = logging.getLogger("openlive.session")

Opener = Callable[[str, ClientMessage, Route, ServerConnection, Grant], Awaitable[SessionRuntime]]
"""Builds the runtime of a session from its id, first message, route, connection and the
credential's grant (raises :class:`SessionError` to refuse it)."""

Authorizer = Callable[
    [Credential | None, Route, ClientMessage], Awaitable[tuple[Grant, ClientMessage]]
]
"""Checks a connection's credential against its route and first message; returns the grant
and the first message as the session must see it (an ephemeral token's constraints applied);
raises :class:`SessionError` to refuse. The default accepts the server's API keys only."""


@dataclass
class ConnectionServices:
    """What a connection needs from the server."""

    keys: KeyChecker
    openers: dict[Method, Opener]
    setup_timeout: float = 30.0
    authorize: Authorizer | None = None
    """Replaces the plain key check (ephemeral tokens); None: API keys only."""
    on_refusal: Callable[[int], None] | None = None
    """Told the close code of each session refused (the server's metrics)."""


class Connection:
    def __init__(self, services: ConnectionServices, ws: ServerConnection, route: Route) -> None:
        self.services = services
        self.ws = ws
        self.route = route
        self.session_id = secrets.token_urlsafe(12)

    async def run(self) -> None:
        SESSION_ID.set(self.session_id)  # on every log record of this task and its children
        try:
            runtime = await self._open()
        except SessionError as exc:
            level = logging.INFO if exc.code in (1007, 1008) else logging.WARNING
            log.log(level, "session %s: refused %d %s", self.session_id, exc.code, exc.reason)
            if self.services.on_refusal is not None:
                self.services.on_refusal(exc.code)
            await self.ws.close(exc.code, exc.reason)
            return
        except ConnectionClosed:
            return
        SESSION_ID.set(runtime.session_id)  # a resumed session keeps the id it had
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
        if self.services.authorize is None:
            grant = self.services.keys.check(credential)
        message = decode_client_message(first)
        if self.services.authorize is not None:
            # constraints of an ephemeral token may supply what the client's setup lacks
            grant, message = await self.services.authorize(credential, self.route, message)
        if message.setup is None:
            raise InvalidArgument(f"the first message must be setup, not {message.kind}")
        if not message.setup.model:
            raise InvalidArgument("setup.model is required")
        # the opener schedules the end at the token's expireTime (a task of the runtime's)
        return await opener(self.session_id, message, self.route, self.ws, grant)


def _unserved(method: Method) -> str:
    if method is Method.LIVE_CONSTRAINED:
        return EPHEMERAL_REFUSAL
    return f"{method.value} is not served by openlive"
