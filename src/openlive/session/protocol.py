"""The interface every session protocol's core offers (Live today; live music next).

A core is sans-I/O: it is built from the first (setup) message, then takes client messages,
and engine events, each stamped with the caller's clock, and returns actions. Its state
serializes to JSON. The WebSocket connection and the session runtime drive any core through
this interface alone.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import SessionError
from ..types import ClientMessage
from .events import Action, EngineEvent

__all__ = ["SessionProtocol"]


class SessionProtocol(Protocol):
    def start(self, now: float = 0.0) -> list[Action]:
        """The first actions (the setup reply among them; for a session restored on a new
        connection, the work it had in flight too)."""
        ...

    def resume(self, now: float) -> list[Action]:
        """Restored from a snapshot into a fresh runtime: restart the work in flight."""
        ...

    def receive_client(self, message: ClientMessage, now: float) -> list[Action]: ...

    def receive_engine(self, event: EngineEvent, now: float) -> list[Action]: ...

    def fail(self, exc: SessionError) -> list[Action]:
        """End the session with ``exc``'s close code and reason (a ``Close`` action, once)."""
        ...

    def client_closed(self, now: float) -> list[Action]: ...

    def to_json(self) -> str: ...
