"""When a Live session can be resumed, and restoring one on a new connection (spec §5.6).

With ``setup.sessionResumption`` present, the core asks for a :class:`Checkpoint` whenever its
state reaches a point a new connection could carry on from and differs from the last one
kept: after ``setupComplete``, after every completed turn, after history-only client content,
after a context update, and while a turn waits for the client's function responses. When a
reply starts (it cannot be resumed half-written) it asks for a non-resumable checkpoint once.
The runtime stores the state and tells the client (``sessionResumptionUpdate``).

Resumable means quiescent: no reply being written or spoken, no transcript owed. A turn
waiting only for BLOCKING function responses is resumable: the client answers them on the
new connection.
"""

from __future__ import annotations

from ..types import SessionResumptionConfig
from .events import Action, Checkpoint
from .state import SessionState

__all__ = ["Resumption"]


class Resumption:
    """Mixed into :class:`~openlive.session.machine.LiveSession`."""

    state: SessionState
    _kept: tuple[object, ...] | None = None
    """The fingerprint of the state last checkpointed as resumable (None: none yet)."""
    _resumable_sent: bool | None = None

    @property
    def resumption_enabled(self) -> bool:
        return self.state.setup.session_resumption is not None

    @property
    def resumable(self) -> bool:
        """A new connection could carry on from the state as it is now."""
        st = self.state
        if st.closed or st.awaiting_transcript or st.voice.recognizing or st.pending_reply:
            return False
        turn = st.turn
        if turn is None:
            return True
        # a turn waiting only for the client's function responses
        return bool(turn.calls) and turn.llm_done and not turn.speaking and not turn.unspoken

    def _fingerprint(self) -> tuple[object, ...]:
        st = self.state
        turn = st.turn
        return (
            len(st.history),
            st.next_turn_id,
            st.next_call_id,
            tuple(st.background),
            len(st.deferred),
            turn.turn_id if turn else 0,
            tuple(turn.calls) if turn else (),
            st.revision,
        )

    def _checkpoints(self) -> list[Action]:
        """The checkpoint the state calls for now, if any."""
        if not self.resumption_enabled or self.state.closed:
            return []
        if self.resumable:
            fingerprint = self._fingerprint()
            if fingerprint == self._kept and self._resumable_sent:
                return []
            self._kept = fingerprint
            self._resumable_sent = True
            return [Checkpoint(True, self.state.consumed)]
        if self._resumable_sent is False:
            return []
        self._resumable_sent = False
        return [Checkpoint(False, self.state.consumed)]

    def _adopt_resumption(self, config: SessionResumptionConfig) -> None:
        """A resumed session keeps its setup, except the client's new resumption options."""
        self.state.setup = self.state.setup.model_copy(
            update={"session_resumption": SessionResumptionConfig(transparent=config.transparent)}
        )
        self.state.playback_end = 0.0  # another process's clock
