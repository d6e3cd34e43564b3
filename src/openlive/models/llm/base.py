"""The LLM interface: the language-model stage of a session.

A backend turns a :class:`~openlive.session.GenerationRequest` (system instruction, the
conversation as typed parts, sampling parameters, tool declarations, and text already
delivered when a reply is resumed) into a stream of engine events: text deltas, then done.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator

from ...session import EngineEvent, GenerationRequest

__all__ = ["LLMBackend"]


class LLMBackend(abc.ABC):
    """One way of running a language model."""

    name: str = "llm"
    calls_tools: bool = False
    """Can answer with function calls (``FunctionCalls`` events) to declared tools."""
    context_window: int = 0
    """The model's context window in tokens (0: unknown). Engines report it with each
    ``GenerationDone``, and raise :class:`~openlive.errors.ContextOverflow` (before writing
    anything) for a prompt that does not fit it."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Begin loading (may return before loading ends; ``generate`` waits for it)."""

    @abc.abstractmethod
    def generate(self, request: GenerationRequest) -> AsyncIterator[EngineEvent]:
        """Stream the reply. Cancelling the consumer stops generation within a token or two."""

    async def prefill(self, request: GenerationRequest) -> None:  # noqa: B027
        """Read a prompt ahead of its reply, when the backend keeps prompt state."""

    def accept_audio(self, session_id: str, pcm: bytes, rate: int) -> None:  # noqa: B027
        """Input audio for ``session_id`` (PCM16 mono at ``rate``); text-only backends drop it."""

    def forget(self, session_id: str) -> None:  # noqa: B027 - optional hook
        """Drop any per-session state kept for ``session_id``. Called on the event loop: it
        must return at once (never wait for a generation)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def describe(self) -> dict[str, object]:
        """Status for ``/healthz`` and ``openlive models``."""
        return {"backend": self.name}
