"""When the runtime reads a prompt ahead (``Prefill``): not while a reply is written ahead from
a transcript taken in a silence, which reads the prompt itself (a read beside it only takes
the compute from it)."""

from __future__ import annotations

import asyncio

from openlive.models import EchoBackend
from openlive.runtime import LiveRuntime
from openlive.server import App
from openlive.session import (
    ChatMessage,
    GenerationRequest,
    LiveSession,
    Prefill,
    SamplingParams,
)
from openlive.types import Setup

from .test_restore import RecordingTransport


class SpyEcho(EchoBackend):
    """The echo engine, noting every prompt it is asked to read ahead (a test double)."""

    def __init__(self) -> None:
        super().__init__(delay=0.01)
        self.prefilled: list[str] = []

    async def prefill(self, request: GenerationRequest) -> None:
        self.prefilled.append(request.messages[-1].text)


def ask(text: str) -> GenerationRequest:
    return GenerationRequest(
        "s1", 0, "", (ChatMessage.of_text("user", text),), params=SamplingParams()
    )


async def test_no_prefill_beside_a_reply_written_ahead(app: App) -> None:
    core = LiveSession.create("s1", "echo", Setup.model_validate({"model": "echo"}), 0.0)
    backend = SpyEcho()
    runtime = LiveRuntime(app.live, core, backend, RecordingTransport())
    await runtime.start()
    await runtime.handle(Prefill(ask("what is the")))
    await asyncio.sleep(0.01)
    assert backend.prefilled == ["what is the"]
    await runtime.handle(Prefill(ask("what is the capital of France?"), speculative=True))
    await runtime.handle(Prefill(ask("what is the capital of")))  # a late interim transcript
    await asyncio.sleep(0.01)
    assert backend.prefilled == ["what is the"]  # the reply written ahead reads its prompt
    await runtime.stop()
