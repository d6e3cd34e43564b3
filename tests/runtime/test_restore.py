"""A session's JSON snapshot, taken mid-generation, mid-playback or mid-speech and restored
into a fresh runtime (as another node would after a failure), carries on: the reply goes on
from where it stopped, nothing the client already has comes twice, the turn completes."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from openlive.audio import float_to_pcm16
from openlive.runtime import LiveRuntime
from openlive.server import App
from openlive.session import LiveSession
from openlive.types import ClientMessage, Setup

from ..speech import espeak

pytestmark = pytest.mark.model


class RecordingTransport:
    """Keeps what a runtime sends (a transport for tests: no socket)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self.changed = asyncio.Event()

    async def send(self, message: str | bytes) -> None:
        self.messages.append(json.loads(message))
        self.changed.set()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> None:
        while not any(predicate(m) for m in self.messages):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 60)

    def texts(self, key: str = "modelTurn") -> str:
        out = ""
        for m in self.messages:
            content = m.get("serverContent", {})
            if key == "modelTurn":
                for part in content.get("modelTurn", {}).get("parts", []):
                    out += part.get("text", "")
            elif key in content:
                out += content[key]["text"]
        return out


def complete(m: dict[str, Any]) -> bool:
    return bool(m.get("serverContent", {}).get("turnComplete"))


def make(app: App, setup: dict[str, Any], transport: RecordingTransport) -> LiveRuntime:
    core = LiveSession.create("s1", "echo", Setup.model_validate(setup), 0.0)
    return runtime_for(app, core, transport)


def runtime_for(app: App, core: LiveSession, transport: RecordingTransport) -> LiveRuntime:
    tts = app.voice.piper if core.speaks else None
    echo = app.registry.backends["echo"]
    return LiveRuntime(app.live, core, echo, transport, tts=tts)


async def restored(app: App, runtime: LiveRuntime) -> tuple[LiveRuntime, RecordingTransport]:
    """Snapshot ``runtime``'s session, end it, and carry the session on in a new runtime."""
    snapshot = runtime.core.to_json()
    await runtime.stop()
    transport = RecordingTransport()
    fresh = runtime_for(app, LiveSession.from_json(snapshot), transport)
    await fresh.resume()
    return fresh, transport


def client(data: dict[str, Any]) -> str:
    return ClientMessage.model_validate(data).model_dump_json(by_alias=True, exclude_none=True)


async def test_restored_mid_generation(app: App) -> None:
    text = "Hello world, this reply is long enough to be cut in the middle of it."
    first = RecordingTransport()
    runtime = make(app, {"model": "x", "generationConfig": {"responseModalities": ["TEXT"]}}, first)
    await runtime.start()
    turn = {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": True}
    await runtime.receive(client({"clientContent": turn}))
    await first.until(lambda m: len(first.texts()) >= 16)
    fresh, second = await restored(app, runtime)
    await second.until(complete)
    assert first.texts() + second.texts() == f"echo: {text}"  # nothing twice, nothing lost
    assert fresh.core.state.history[-1].text == f"echo: {text}"
    await fresh.stop()


async def test_restored_mid_playback(app: App) -> None:
    await app.voice.ready()
    first = RecordingTransport()
    setup = {
        "model": "x",
        "generationConfig": {"responseModalities": ["AUDIO"]},
        "outputAudioTranscription": {},
    }
    runtime = make(app, setup, first)
    await runtime.start()
    words = "First sentence here. Second sentence now. Third one follows. And the fourth."
    await runtime.receive(client({"realtimeInput": {"text": words}}))
    await first.until(lambda m: "modelTurn" in m.get("serverContent", {}))
    fresh, second = await restored(app, runtime)
    await second.until(complete)
    heard = first.texts("outputTranscription") + second.texts("outputTranscription")
    assert heard == f"echo: {words}"  # every piece transcribed once, spaces kept
    assert any("modelTurn" in m.get("serverContent", {}) for m in second.messages)
    assert fresh.core.state.history[-1].text == f"echo: {words}"
    await fresh.stop()


async def test_restored_mid_speech(app: App) -> None:
    await app.voice.ready()
    first = RecordingTransport()
    setup = {
        "model": "x",
        "generationConfig": {"responseModalities": ["TEXT"]},
        "inputAudioTranscription": {},
    }
    runtime = make(app, setup, first)
    await runtime.start()
    silence = np.zeros(16000, np.float32)
    start = espeak("Good morning.", "en-us+f3", 150, 60)
    rest = espeak("What is the capital of France?", "en-us+f3", 150, 60)
    pause = np.zeros(3200, np.float32)  # 200 ms: shorter than the 500 ms end of turn

    async def feed(target: LiveRuntime, samples: np.ndarray) -> None:
        pcm = float_to_pcm16(samples)
        for i in range(0, len(pcm), 3200):
            audio = {"mimeType": "audio/pcm;rate=16000"}
            audio["data"] = base64.b64encode(pcm[i : i + 3200]).decode()
            await target.receive(client({"realtimeInput": {"audio": audio}}))

    await feed(runtime, np.concatenate([silence[:4000], start, pause]))
    while not runtime.core.state.voice.collecting:
        await asyncio.sleep(0.05)
    fresh, second = await restored(app, runtime)
    assert fresh.core.state.voice.collecting
    await feed(fresh, np.concatenate([rest, silence]))
    await second.until(complete)
    transcript = second.texts("inputTranscription").lower()
    assert "capital of france" in transcript
    assert second.texts().lower().startswith("echo: ") and "france" in second.texts().lower()
    await fresh.stop()
