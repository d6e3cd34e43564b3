"""The runtime's building blocks, alone: the outbox, the task owner, the closed core."""

from __future__ import annotations

import asyncio

import pytest

from openlive.errors import InvalidArgument
from openlive.runtime import CloseFrame, Outbox, TaskOwner
from openlive.session import LiveSession, PushAudio, StartGeneration
from openlive.types import ClientMessage, Setup


async def test_outbox_waits_when_full_and_the_close_frame_never_waits() -> None:
    box = Outbox(limit=2)
    await box.put("a")
    await box.put("b")
    blocked = asyncio.create_task(box.put("c"))
    await asyncio.sleep(0.01)
    assert not blocked.done() and len(box) == 2
    assert box.request_close(1011, "bye") and not box.request_close(1000, "")
    await blocked  # closing frees the waiting producer; its frame is dropped
    assert [await box.get(), await box.get()] == ["a", "b"]
    last = await box.get()
    assert isinstance(last, CloseFrame) and (last.code, last.reason) == (1011, "bye")


async def test_task_owner_reports_failures_and_cancels_the_rest() -> None:
    failures: list[tuple[str, str]] = []

    async def on_failure(stage: str, exc: BaseException) -> None:
        failures.append((stage, str(exc)))

    owner = TaskOwner(on_failure)

    async def boom() -> None:
        raise RuntimeError("x")

    forever = owner.spawn(asyncio.sleep(3600), "sleeper")
    owner.spawn(boom(), "stage")
    await asyncio.sleep(0.01)
    assert failures == [("stage", "x")] and owner.running == 1
    await owner.close(timeout=1)
    assert forever.cancelled() and owner.running == 0
    with pytest.raises(RuntimeError):
        owner.spawn(asyncio.sleep(0), "late")


def session(setup: dict[str, object] | None = None) -> LiveSession:
    data = {"model": "x", "generationConfig": {"responseModalities": ["TEXT"]}, **(setup or {})}
    s = LiveSession.create("s", "x", Setup.model_validate(data), 0.0)
    s.start()
    return s


def test_a_closed_core_does_nothing() -> None:
    s = session()
    assert s.fail(InvalidArgument("bad"))
    turn = {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True}
    assert s.receive_client(ClientMessage.model_validate({"clientContent": turn}), 1) == []
    assert s.fail(InvalidArgument("again")) == []  # one close, never two
    s2 = session()
    s2.client_closed(1)
    assert s2.receive_client(ClientMessage.model_validate({"clientContent": turn}), 2) == []
    assert s2.resume(3) == []


def test_every_media_chunk_goes_to_the_voice_stage() -> None:
    s = session()
    chunks = [{"mimeType": "audio/pcm;rate=16000", "data": "AQI="} for _ in range(3)]
    actions = s.receive_client(
        ClientMessage.model_validate({"realtimeInput": {"mediaChunks": chunks}}), 1
    )
    assert actions == [PushAudio(b"\x01\x02", 16000, detect=True)] * 3


def test_history_keeps_typed_parts_for_the_engine() -> None:
    s = session()
    content = {
        "turns": [
            {
                "role": "user",
                "parts": [
                    {"text": "What is in this picture?"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw=="}},
                ],
            }
        ],
        "turnComplete": True,
    }
    actions = s.receive_client(ClientMessage.model_validate({"clientContent": content}), 1)
    (start,) = [a for a in actions if isinstance(a, StartGeneration)]
    message = start.request.messages[-1]
    assert message.text == "What is in this picture?"
    assert [type(p).__name__ for p in message.parts] == ["TextPart", "InlinePart"]
