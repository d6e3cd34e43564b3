"""Image frames in the session core: held between turns, taken by the next user turn, counted
in usage, refused with a reason naming the field; no sockets, no models."""

from __future__ import annotations

import base64

import pytest

from openlive.session import (
    Close,
    GenerationDone,
    InlinePart,
    LiveSession,
    SeeFrame,
    StartGeneration,
)
from openlive.types import ClientMessage, Setup

JPEG = b"\xff\xd8\xff\xe0" + bytes(60)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(60)


def make(setup: dict | None = None) -> LiveSession:
    data = {"model": "models/x", "generationConfig": {"responseModalities": ["TEXT"]}}
    data.update(setup or {})
    session = LiveSession.create("sid-1", "x", Setup.model_validate(data), now=0.0)
    session.start()
    return session


def frame(data: bytes, mime: str = "image/jpeg") -> ClientMessage:
    blob = {"data": base64.b64encode(data).decode(), "mimeType": mime}
    return ClientMessage.model_validate({"realtimeInput": {"video": blob}})


def text(words: str) -> ClientMessage:
    return ClientMessage.model_validate({"realtimeInput": {"text": words}})


def request(actions: list) -> StartGeneration:
    return next(a for a in actions if isinstance(a, StartGeneration))


def images(start: StartGeneration) -> list[bytes]:
    return [
        p.data
        for m in start.request.messages
        for p in m.parts
        if isinstance(p, InlinePart) and p.mime_type.startswith("image/")
    ]


def test_a_turn_takes_the_latest_frame_once() -> None:
    session = make()
    actions = session.receive_client(frame(JPEG + b"1"), 0.1)
    assert [type(a) for a in actions] == [SeeFrame]
    session.receive_client(frame(JPEG + b"2"), 0.2)
    start = request(session.receive_client(text("what is on my screen?"), 0.3))
    assert images(start) == [JPEG + b"2"]  # the latest; the one before is not sent
    last = start.request.messages[-1]
    assert isinstance(last.parts[0], InlinePart) and last.parts[-1].text == "what is on my screen?"
    session.receive_engine(GenerationDone(start.request.turn_id, 10, 2, 0, "stop", 4096), 0.4)
    # the same screen again: not added to the history a second time
    session.receive_client(frame(JPEG + b"2"), 0.5)
    start = request(session.receive_client(text("and now?"), 0.6))
    assert images(start) == [JPEG + b"2"]  # only the copy the first turn took


@pytest.mark.parametrize(
    "coverage", ["TURN_INCLUDES_ALL_INPUT", "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO"]
)
def test_turn_coverage_all_input_takes_every_frame_held_up_to_the_cap(coverage: str) -> None:
    session = make({"realtimeInputConfig": {"turnCoverage": coverage}})
    session.state.vision.max_frames = 3
    for k in range(5):
        session.receive_client(frame(PNG + bytes([k]), "image/png"), 0.1 * k)
    assert len(session.state.vision.frames) == 3  # memory bounded however long the stream
    start = request(session.receive_client(text("describe"), 1.0))
    assert images(start) == [PNG + bytes([k]) for k in (2, 3, 4)]


def test_usage_counts_image_tokens_by_resolution() -> None:
    for resolution, per_image in ((None, 258), ("MEDIA_RESOLUTION_LOW", 66)):
        config: dict = {"responseModalities": ["TEXT"]}
        if resolution:
            config["mediaResolution"] = resolution
        session = make({"generationConfig": config})
        session.receive_client(frame(JPEG), 0.1)
        start = request(session.receive_client(text("hi"), 0.2))
        done = GenerationDone(start.request.turn_id, 40, 3, 0, "stop", 4096)
        wire = next(
            a.message.to_wire()
            for a in session.receive_engine(done, 0.3)
            if hasattr(a, "message") and a.message.usage_metadata is not None
        )["usageMetadata"]
        assert {"modality": "IMAGE", "tokenCount": per_image} in wire["promptTokensDetails"]
        assert wire["promptTokenCount"] == 40 + per_image


def test_client_content_images_are_checked_and_the_frames_join_its_turn() -> None:
    session = make()
    session.receive_client(frame(JPEG), 0.1)
    part = {"inlineData": {"data": base64.b64encode(PNG).decode(), "mimeType": "image/png"}}
    message = ClientMessage.model_validate(
        {
            "clientContent": {
                "turns": [{"role": "user", "parts": [part, {"text": "compare these"}]}],
                "turnComplete": True,
            }
        }
    )
    actions = session.receive_client(message, 0.2)
    assert [a.where for a in actions if isinstance(a, SeeFrame)] == ["clientContent.turns"]
    assert images(request(actions)) == [JPEG, PNG]


@pytest.mark.parametrize(
    ("data", "mime", "reason"),
    [
        (b"GIF89a", "image/gif", "realtimeInput.video: MIME type 'image/gif' is not supported"),
        (b"", "image/png", "realtimeInput.video: the image/png data is empty"),
        (bytes(2 * 2**20), "image/jpeg", "over the 1.0 MiB frame limit"),
    ],
)
def test_bad_frames_are_refused_with_a_reason(data: bytes, mime: str, reason: str) -> None:
    session = make()
    session.state.vision.max_frame_bytes = 2**20
    closes = [a for a in session.receive_client(frame(data, mime), 0.1) if isinstance(a, Close)]
    assert closes and closes[0].code == 1007 and reason in closes[0].reason


def test_held_frames_stay_out_of_snapshots_taken_frames_stay_in_history() -> None:
    session = make()
    session.receive_client(frame(JPEG + b"a"), 0.1)
    request(session.receive_client(text("first"), 0.2))  # takes frame a into the history
    session.receive_client(frame(JPEG + b"b"), 0.3)  # held, not taken yet
    snapshot = session.to_json()
    assert base64.b64encode(JPEG + b"b").decode() not in snapshot
    restored = LiveSession.restore(snapshot, session.state.setup)
    assert restored.state.vision.frames == []
    assert any(
        p.inline_data is not None and p.inline_data.data == JPEG + b"a"
        for c in restored.state.history
        for p in c.parts
    )
