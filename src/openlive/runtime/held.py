"""A reply written ahead: generation started on a speculative transcript, in a silence that
may end the user's turn, and held until the turn is committed.

When the core then asks for the reply with the same request (the same conversation and the
same words; only the turn id differs), the runtime takes over what was written so far and the
rest as it comes; otherwise, or when the user goes on speaking, it is thrown away unseen.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

from ..errors import EngineError
from ..models import LLMBackend
from ..session import (
    EngineEvent,
    Fault,
    FunctionCalls,
    GenerationDone,
    GenerationRequest,
    TextDelta,
)
from .tasks import TaskOwner

__all__ = ["HeldReply"]


class HeldReply:
    def __init__(self, backend: LLMBackend, request: GenerationRequest, tasks: TaskOwner) -> None:
        self.request = dataclasses.replace(request, turn_id=0)
        self.started = time.monotonic()
        self.first_token: float | None = None
        """When the first text was written (``time.monotonic()``), if it was."""
        self._events: asyncio.Queue[EngineEvent | EngineError | None] = asyncio.Queue()
        self._task = tasks.spawn(self._write(backend), "speculative reply")
        self.taken = False

    async def _write(self, backend: LLMBackend) -> None:
        try:
            async for event in backend.generate(self.request):
                if self.first_token is None and isinstance(event, TextDelta):
                    self.first_token = time.monotonic()
                self._events.put_nowait(event)
        except EngineError as exc:
            self._events.put_nowait(exc)
        finally:
            self._events.put_nowait(None)

    def matches(self, request: GenerationRequest) -> bool:
        return not self.taken and dataclasses.replace(request, turn_id=0) == self.request

    def drop(self) -> None:
        """The user went on, or another reply is wanted: stop writing, show nothing."""
        self._task.cancel()

    async def take(self, turn_id: int) -> AsyncIterator[EngineEvent]:
        """Everything written for the turn ``turn_id``: what is held, then the rest. Raises
        the engine's error, if it failed."""
        self.taken = True
        try:
            while (item := await self._events.get()) is not None:
                if isinstance(item, EngineError):
                    raise item
                if isinstance(item, TextDelta | FunctionCalls | GenerationDone | Fault):
                    yield dataclasses.replace(item, turn_id=turn_id)
                else:
                    yield item
        finally:
            self._task.cancel()  # the taker was stopped (interrupted): so is the writer
