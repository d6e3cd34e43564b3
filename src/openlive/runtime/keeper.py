"""Resumable sessions in the shared store: snapshots, handles, and who holds each session.

Keys (each with the resumption lifetime, renewed while a connection holds the session and
counted again from the moment its last connection ends):

* ``session:<id>``: the latest resumable snapshot, with the principal it belongs to;
* ``handle:<handle>``: the session a handle resumes. A handle works until a newer one is
  issued, give or take a grace of ``grace`` seconds (10 by default) for an update lost in
  flight: the client that never received the newer handle (its connection or the node died
  just then) can still resume with the one it has. Resuming with the newer handle ends the
  grace of the one before at once;
* ``owner:<id>``: the connection holding the session. A resumption takes the session over
  (and tells every node, so the old connection is closed wherever it is); a connection that
  no longer holds its session cannot write it any more.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ..errors import PolicyViolation
from ..store import Store

__all__ = ["EVICTIONS", "KeptSession", "SessionKeeper"]

EVICTIONS = "evict"
"""The store channel on which a takeover is announced: ``<session id> <new owner>``."""

_INVALID = (
    "session resumption handle is not valid: it expired, a newer handle replaced it, or it "
    "was never issued; start a new session"
)


@dataclass(frozen=True, slots=True)
class KeptSession:
    session_id: str
    snapshot: str
    principal: str
    created: float
    """Unix time the session began (its first connection)."""


class SessionKeeper:
    def __init__(self, store: Store, ttl: float = 7200.0, grace: float = 10.0) -> None:
        self.store = store
        self.ttl = ttl
        self.grace = grace

    async def load(self, handle: str, principal: str) -> KeptSession:
        """The session ``handle`` resumes; 1008 if the handle is unknown, spent, expired, or
        belongs to another credential."""
        if not handle or len(handle) > 256:
            raise PolicyViolation(_INVALID)
        session_id = await self.store.get(f"handle:{handle}")
        record = await self.store.get(f"session:{session_id}") if session_id else None
        if session_id is None or record is None:
            raise PolicyViolation(_INVALID)
        data = json.loads(record)
        previous = data.get("previous")
        if handle == data.get("handle"):
            if previous:  # the newer handle is in use: the grace of the one before ends
                await self.store.delete(f"handle:{previous}")
        elif handle != previous:
            raise PolicyViolation(_INVALID)
        if data["principal"] != principal:
            raise PolicyViolation(
                "this session resumption handle was issued to another API key; resume with "
                "the key that started the session"
            )
        return KeptSession(session_id, data["snapshot"], principal, float(data["created"]))

    async def claim(self, session_id: str) -> str:
        """Take the session for a new connection; returns its owner token. Any connection
        holding it before is told to close."""
        owner = secrets.token_urlsafe(12)
        await self.store.put(f"owner:{session_id}", owner, self.ttl)
        await self.store.publish(EVICTIONS, f"{session_id} {owner}")
        return owner

    async def save(
        self,
        session_id: str,
        owner: str,
        principal: str,
        snapshot: str,
        created: float,
        old_handle: str | None,
    ) -> str | None:
        """Keep ``snapshot`` and issue a new handle for it (the old one stops working).
        None if the connection no longer holds the session."""
        handle = secrets.token_urlsafe(32)
        record = json.dumps(
            {
                "snapshot": snapshot,
                "principal": principal,
                "handle": handle,
                "previous": old_handle,
                "created": created,
                "saved": time.time(),
            }
        )
        guard = f"owner:{session_id}"
        if not await self.store.put_if(f"session:{session_id}", record, self.ttl, guard, owner):
            return None
        await self.store.put(f"handle:{handle}", session_id, self.ttl)
        if old_handle:
            if self.grace > 0:
                await self.store.expire(f"handle:{old_handle}", self.grace)
            else:
                await self.store.delete(f"handle:{old_handle}")
        return handle

    async def touch(self, session_id: str, handle: str | None) -> None:
        """Count the lifetime again from now (while connected, and when the connection ends)."""
        await self.store.expire(f"session:{session_id}", self.ttl)
        await self.store.expire(f"owner:{session_id}", self.ttl)
        if handle:
            await self.store.expire(f"handle:{handle}", self.ttl)

    async def evictions(self) -> AsyncIterator[tuple[str, str]]:
        """Takeovers announced by any node: (session id, new owner)."""
        async for message in self.store.subscribe(EVICTIONS):
            session_id, _, owner = message.partition(" ")
            yield session_id, owner
