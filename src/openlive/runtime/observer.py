"""What a session runtime reports to whoever watches the server (its metrics).

The runtime knows nothing of how the reports are kept: the server gives it a
:class:`SessionObserver` whose methods it calls as things happen. The base class ignores
every report, so a runtime with no observer (tests, tools) needs nothing.
"""

from __future__ import annotations

__all__ = ["SessionObserver"]


class SessionObserver:
    """Callbacks about sessions; each does nothing unless overridden. They run on the event
    loop, from the session's own tasks, and must return at once (no I/O, no waiting)."""

    def first_text(self, seconds: float) -> None:
        """The first text of a reply went out, ``seconds`` after its generation started
        (a client turn, or the tool responses it waited for)."""

    def turn_completed(self, modality: str) -> None:
        """A model turn ended (``turnComplete`` sent); ``modality`` is ``text`` or ``audio``."""

    def tool_calls(self, count: int) -> None:
        """A ``toolCall`` message asked the client for ``count`` function calls."""

    def session_ended(self, code: int) -> None:
        """A session that had started ended with close code ``code``."""
