"""The engine interface: the model side of a session.

An engine turns a :class:`~openlive.session.GenerationRequest` into a stream of engine events
(text deltas, then done or failed). Only the LLM stage exists so far; capability flags say what a
backend can do so the server can refuse what it cannot.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ..session import EngineEvent, GenerationRequest

__all__ = ["Capabilities", "LLMBackend"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    streaming: bool = True
    exact_token_counts: bool = True
    """Usage metadata comes from the model's own tokenizer (not an estimate)."""
    session_cache: bool = False
    """Keeps per-session prompt state so a turn does not re-read the whole history."""


class LLMBackend(abc.ABC):
    """One way of running a language model."""

    name: str = "llm"
    capabilities: Capabilities = Capabilities()

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
        """Drop any per-session state kept for ``session_id``."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def describe(self) -> dict[str, object]:
        """Status for ``/healthz`` and ``openlive models``."""
        return {"backend": self.name}
