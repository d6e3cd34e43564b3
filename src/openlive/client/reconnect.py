"""Reconnecting sessions: the options, the replay buffer, and the error when resuming fails.

With ``connect(..., reconnect=True)`` (or a :class:`Reconnect`), the SDK asks for session
resumption in the setup, keeps the latest handle the server issues
(``sessionResumptionUpdate``, spec §5.6), and when the connection ends for a reason worth
retrying (a ``goAway``, a drop, 1001, 1011…) opens a new one with that handle, sends again the
client messages the server had not consumed, and goes on delivering messages to the same
``receive()`` loop. The rules are in docs/sdk.md ("Reconnecting").
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from ..errors import LiveConnectionClosed

__all__ = [
    "RETRYABLE_CODES",
    "Reconnect",
    "ReconnectFailed",
    "ReconnectInfo",
    "ReplayBuffer",
    "parse_time_left",
]

RETRYABLE_CODES = frozenset({1001, 1006, 1011, 1012, 1013, 1014})
"""Close codes after which a reconnecting session resumes: going away (drain), no close frame
(a dropped connection, a node that died), server error, restart, try again later, bad
gateway. 1000 counts too when a ``goAway`` announced it; 1007, 1008 and other codes never do
(the server refused on purpose)."""


@dataclass(frozen=True)
class Reconnect:
    """How a session resumes by itself (``connect(..., reconnect=Reconnect(...))``;
    ``reconnect=True`` takes these defaults).

    * ``transparent``: ask for transparent resumption (the server reports the index of the last
      client message it kept, so every message after it is sent again exactly once). Without
      it only messages that never left the SDK are sent again.
    * ``max_attempts``: consecutive attempts without progress before giving up with
      :class:`ReconnectFailed`. An attempt is a new connection; progress is a completed turn or
      the server consuming a message sent again. So a message that makes the server fail every
      time it is answered is retried at most this many times.
    * ``backoff``, ``max_backoff``: seconds before the second attempt, doubling each attempt up
      to the maximum (with jitter). The first attempt is immediate.
    * ``goaway_margin``: after a ``goAway``, the SDK moves to a new connection at the next point
      the session is resumable (at once when it is idle), and at the latest this many seconds
      before ``timeLeft`` runs out (or a fifth of ``timeLeft`` when that is shorter).
    * ``replay_limit``: the most client messages held for sending again (the oldest are dropped
      beyond it; a resumption that would need one of them says so through ``on_reconnect``'s
      ``lost`` count).
    """

    transparent: bool = True
    max_attempts: int = 5
    backoff: float = 0.25
    max_backoff: float = 5.0
    goaway_margin: float = 1.0
    replay_limit: int = 10_000

    @classmethod
    def of(cls, value: bool | Reconnect | None) -> Reconnect | None:
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        raise TypeError(f"reconnect must be a bool or a Reconnect, not {type(value).__name__}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (0 for the first)."""
        if attempt <= 0:
            return 0.0
        base = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class ReconnectInfo:
    """What ``on_reconnect(info)`` is told after the session resumed on a new connection."""

    attempt: int
    """Attempts this resumption took (1: the first one worked)."""
    code: int
    """Why the previous connection ended: its close code (1006: dropped), or 1000 for a move
    the SDK made after a ``goAway``."""
    reason: str
    replayed: int
    """Client messages sent again on the new connection."""
    interrupted: bool
    """A turn was in progress when the connection ended (a reply owed or being received):
    the SDK delivered a ``serverContent.interrupted`` message (see docs/sdk.md)."""
    lost: int = 0
    """Messages that should have been sent again but were beyond ``replay_limit``."""


class ReconnectFailed(LiveConnectionClosed):
    """A reconnecting session could not be resumed: the server refused the handle (1007,
    1008), no handle was ever issued, or ``attempts`` attempts failed in a row. ``code`` and
    ``reason`` are the last failure's."""

    def __init__(self, code: int, reason: str, attempts: int) -> None:
        super().__init__(code, reason)
        self.attempts = attempts


class ReplayBuffer:
    """Client messages sent since the last one the server reported consumed, each with its
    index (counted from 0 over the whole session, setup messages excluded, as the server
    counts them)."""

    def __init__(self, transparent: bool, limit: int) -> None:
        self.transparent = transparent
        self.limit = max(1, limit)
        self.next_index = 0
        self.last_non_media = -1
        """Index of the last message sent that is not an audio or video chunk (one the server
        may answer as soon as it arrives)."""
        self._held: deque[tuple[int, str | bytes, bool]] = deque()
        """(index, frame, sent)"""
        self.lost = 0

    def add(self, frame: str | bytes, sent: bool, media: bool = False) -> int:
        """Hold a message (``sent``: handed to a connection; ``media``: an audio or video
        chunk); returns its index."""
        index = self.next_index
        self.next_index += 1
        if not media:
            self.last_non_media = index
        if self.transparent or not sent:
            self._held.append((index, frame, sent))
            while len(self._held) > self.limit:
                self._held.popleft()
                self.lost += 1
        return index

    def mark_unsent(self, index: int, frame: str | bytes) -> None:
        """Sending it failed: it certainly did not reach the server."""
        if not self.transparent:
            self._held.append((index, frame, False))

    def consumed(self, last: int) -> None:
        """The server kept every message up to index ``last``."""
        while self._held and self._held[0][0] <= last:
            self._held.popleft()

    def to_replay(self, last_consumed: int) -> tuple[list[str | bytes], int]:
        """The frames to send again after resuming a state that consumed up to
        ``last_consumed``; and how many needed ones were dropped beyond the limit."""
        if self.transparent:
            frames = [frame for index, frame, _ in self._held if index > last_consumed]
            first = self._held[0][0] if self._held else self.next_index
            lost = max(0, first - (last_consumed + 1))
        else:
            frames = [frame for _, frame, _ in self._held]
            lost = 0
        return frames, lost

    def replayed(self) -> None:
        """The frames :meth:`to_replay` gave were sent on the new connection."""
        if not self.transparent:
            self._held.clear()

    def __len__(self) -> int:
        return len(self._held)


def parse_time_left(value: str | None) -> float | None:
    """``goAway.timeLeft`` (a protobuf duration, ``"10s"``, ``"0.4s"``) in seconds."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip().removesuffix("s")))
    except ValueError:
        return None
