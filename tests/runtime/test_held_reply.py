"""A reply written ahead on a speculative transcript (``runtime/held.py``), with the echo
engine: taken over whole by the turn it was written for, or thrown away."""

from __future__ import annotations

import asyncio

from openlive.models import EchoBackend
from openlive.runtime.held import HeldReply
from openlive.runtime.tasks import TaskOwner
from openlive.session import (
    ChatMessage,
    GenerationDone,
    GenerationRequest,
    SamplingParams,
    TextDelta,
)


def request(text: str, turn_id: int = 0) -> GenerationRequest:
    return GenerationRequest(
        session_id="s",
        turn_id=turn_id,
        system="",
        messages=(ChatMessage.of_text("user", text),),
        params=SamplingParams(),
    )


async def failed(stage: str, exc: BaseException) -> None:
    raise AssertionError(f"{stage} failed: {exc!r}")


async def test_the_turn_takes_over_what_was_written_and_the_rest() -> None:
    tasks = TaskOwner(failed)
    held = HeldReply(EchoBackend(chunk_chars=4, delay=0.01), request("hello there"), tasks)
    await asyncio.sleep(0.03)  # some of it is written before the turn is committed
    assert held.matches(request("hello there", turn_id=7))
    assert not held.matches(request("hello there, and more", turn_id=7))
    events = [e async for e in held.take(7)]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "echo: hello there"
    assert all(e.turn_id == 7 for e in events if isinstance(e, TextDelta | GenerationDone))
    assert isinstance(events[-1], GenerationDone)
    assert not held.matches(request("hello there", turn_id=8))  # taken once
    await tasks.close(1.0)


async def test_a_dropped_reply_stops_writing() -> None:
    tasks = TaskOwner(failed)
    backend = EchoBackend(chunk_chars=1, delay=0.05)
    held = HeldReply(backend, request("a long answer to throw away"), tasks)
    await asyncio.sleep(0.02)
    held.drop()
    await asyncio.sleep(0.05)
    assert tasks.running == 0
    await tasks.close(1.0)
