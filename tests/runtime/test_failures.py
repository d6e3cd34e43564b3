"""A failure in any stage of a session closes that session with 1011 and a reason naming the
stage, and the server goes on serving new sessions. Failures are injected into the real stages
(real VAD, Whisper and Piper models; the echo LLM for text) or come from a stub HTTP server
that answers garbage or never answers, standing in for a broken remote engine."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

import openlive.runtime.voice_out as voice_out
from openlive.audio import float_to_pcm16
from openlive.models.llm.echo import EchoBackend
from openlive.models.speech.vad import VadModel
from openlive.server import ServerConfig

from ..conftest import RunningServer, running_app
from ..speech import espeak
from .stubs import misbehaving_stub

pytestmark = pytest.mark.model

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def config(**extra: Any) -> ServerConfig:
    base: dict[str, Any] = {"port": 0, "tls_port": 0, "no_tls": True, "model": "echo"}
    return ServerConfig(**{**base, **extra})


def setup(modality: str = "TEXT") -> str:
    gc = {"responseModalities": [modality]}
    return json.dumps({"setup": {"model": "models/gemini-x", "generationConfig": gc}})


@pytest.fixture(scope="module")
def question_pcm() -> bytes:
    speech = espeak("What is the capital of France?", "en-us+f3", 150, 60)
    silence = np.zeros(16000, np.float32)
    return float_to_pcm16(np.concatenate([silence[:4000], speech, silence]))


async def open_session(server: RunningServer, modality: str) -> ClientConnection:
    ws = await connect(server.ws + PATH)
    await ws.send(setup(modality))
    return ws


async def speak(ws: ClientConnection, pcm: bytes) -> None:
    chunk = 3200  # 100 ms
    for i in range(0, len(pcm), chunk):
        message = {"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000"}}}
        message["realtimeInput"]["audio"]["data"] = _b64(pcm[i : i + chunk])
        await ws.send(json.dumps(message))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def close_of(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(10_000):
            await ws.recv()
    rcvd = info.value.rcvd
    assert rcvd is not None, "the server dropped the connection without a close frame"
    return rcvd.code, rcvd.reason


async def assert_still_serves(server: RunningServer) -> None:
    async with connect(server.ws + PATH) as ws:
        await ws.send(setup())
        assert "setupComplete" in json.loads(await ws.recv())
        turn = {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True}
        await ws.send(json.dumps({"clientContent": turn}))
        while True:
            message = json.loads(await ws.recv())
            if message.get("serverContent", {}).get("turnComplete"):
                break
    assert server.app.scheduler.sessions == 0 or server.app.scheduler.sessions == 1


def raises(exc: BaseException) -> Callable[..., Any]:
    def fail(*args: object, **kwargs: object) -> Any:
        raise exc

    return fail


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    async with running_app(config()) as running:
        yield running


async def test_llm_crash(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(self: EchoBackend, request: object) -> AsyncIterator[object]:
        raise ValueError("weights on fire")
        yield  # pragma: no cover

    monkeypatch.setattr(EchoBackend, "generate", broken)
    ws = await open_session(server, "TEXT")
    await ws.recv()
    turn = {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True}
    await ws.send(json.dumps({"clientContent": turn}))
    code, reason = await close_of(ws)
    assert code == 1011 and "language model failed" in reason and "weights on fire" in reason
    monkeypatch.undo()
    await assert_still_serves(server)


async def test_vad_crash(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, question_pcm: bytes
) -> None:
    monkeypatch.setattr(VadModel, "infer", raises(RuntimeError("onnxruntime error")))
    ws = await open_session(server, "AUDIO")
    await ws.recv()
    await speak(ws, question_pcm)
    code, reason = await close_of(ws)
    assert code == 1011 and "voice activity detection failed" in reason
    assert "onnxruntime error" in reason
    monkeypatch.undo()
    await assert_still_serves(server)


async def test_asr_crash(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, question_pcm: bytes
) -> None:
    await server.app.voice.ready()
    monkeypatch.setattr(server.app.voice.asr, "transcribe", raises(ValueError("bad tensor")))
    ws = await open_session(server, "AUDIO")
    await ws.recv()
    await speak(ws, question_pcm)
    code, reason = await close_of(ws)
    assert code == 1011 and "speech recognition" in reason and "bad tensor" in reason
    monkeypatch.undo()
    await assert_still_serves(server)


async def test_tts_timeout(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    await server.app.voice.ready()
    timeout = subprocess.TimeoutExpired(["espeak-ng"], 30)
    monkeypatch.setattr(server.app.voice.piper, "synthesize", raises(timeout))
    ws = await open_session(server, "AUDIO")
    await ws.recv()
    await ws.send(json.dumps({"realtimeInput": {"text": "Say something."}}))
    code, reason = await close_of(ws)
    assert code == 1011 and "speech synthesis failed (TimeoutExpired" in reason
    monkeypatch.undo()
    await assert_still_serves(server)


async def test_pacing_crash(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_out, "_sleep_until", raises(OSError("clock gone")))
    ws = await open_session(server, "AUDIO")
    await ws.recv()
    await ws.send(json.dumps({"realtimeInput": {"text": "Say something."}}))
    code, reason = await close_of(ws)
    assert code == 1011 and "audio pacing failed" in reason and "clock gone" in reason
    monkeypatch.undo()
    await assert_still_serves(server)


async def test_writer_crash(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ServerConnection, "send", raises(MemoryError("no buffer")))
    ws = await open_session(server, "TEXT")
    code, reason = await close_of(ws)
    assert code == 1011 and "writer" in reason and "MemoryError" in reason
    monkeypatch.undo()
    await assert_still_serves(server)


@pytest.mark.parametrize("mode", ["garbage", "hang"])
async def test_remote_llm_misbehaves(mode: str) -> None:
    with misbehaving_stub(mode) as url:
        async with running_app(config(model="remote", remote_url=url, remote_timeout=1)) as srv:
            ws = await open_session(srv, "TEXT")
            await ws.recv()
            turn = {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True}
            await ws.send(json.dumps({"clientContent": turn}))
            code, reason = await close_of(ws)
            assert code == 1011 and "remote LLM" in reason
            expected = "not JSON" if mode == "garbage" else "Timeout"
            assert expected in reason
            srv.app.registry.default = "echo"  # the broken engine aside, the server still serves
            await assert_still_serves(srv)


@pytest.mark.parametrize("mode", ["garbage", "hang"])
async def test_remote_asr_misbehaves(mode: str, question_pcm: bytes) -> None:
    with misbehaving_stub(mode) as url:
        cfg = config(asr="remote", asr_url=url, remote_timeout=1)
        async with running_app(cfg) as srv:
            ws = await open_session(srv, "AUDIO")
            await ws.recv()
            await speak(ws, question_pcm)
            code, reason = await close_of(ws)
            assert code == 1011 and "speech recognition" in reason
            expected = "not a transcription" if mode == "garbage" else "Timeout"
            assert expected in reason
            await assert_still_serves(srv)


@pytest.mark.parametrize("mode", ["garbage", "hang"])
async def test_remote_tts_misbehaves(mode: str) -> None:
    with misbehaving_stub(mode) as url:
        async with running_app(config(tts="remote", tts_url=url, remote_timeout=1)) as srv:
            ws = await open_session(srv, "AUDIO")
            await ws.recv()
            await ws.send(json.dumps({"realtimeInput": {"text": "Say something."}}))
            code, reason = await close_of(ws)
            assert code == 1011 and "speech synthesis failed" in reason
            expected = "unreadable audio" if mode == "garbage" else "Timeout"
            assert expected in reason
            await assert_still_serves(srv)
