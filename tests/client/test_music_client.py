"""openlive's live music SDK (``client.aio.live.music`` and ``client.live.music``) and the
``openlive music`` command against a real ``openlive serve --model echo`` process: prompts and
config steer a stream of 48 kHz stereo PCM16; PAUSE stops it and PLAY resumes it; a bad
setting closes the session 1007; the command writes a WAV of the asked length."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openlive import Client, LiveConnectionClosed
from openlive.cli.music import parse_prompt
from openlive.client import AsyncMusicSession, MusicServerMessage, WeightedPrompt
from openlive.client.music import AudioChunk, config_to_wire, prompts_to_wire

from ..helpers import ROOT, ServerProcess, start_server

MIME = "audio/pcm;rate=48000;channels=2"
CHUNK_FRAMES = 4800
"""100 ms of 48 kHz frames: the server's chunk."""


@pytest.fixture(scope="module")
def music_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``openlive serve --model echo`` as a separate process (the music route works on any
    engine)."""
    server = start_server(tmp_path_factory.mktemp("music-serve"), "--model", "echo")
    yield server
    server.stop()


def stereo(chunks: list[AudioChunk]) -> np.ndarray[Any, np.dtype[np.int16]]:
    pcm = np.frombuffer(b"".join(c.data for c in chunks), dtype="<i2")
    return pcm.reshape(-1, 2)


async def take_chunks(session: AsyncMusicSession, n: int) -> list[AudioChunk]:
    """The next ``n`` (or more) audio chunks, whatever else arrives in between."""
    out: list[AudioChunk] = []
    async for message in session.receive():
        if message.server_content is not None:
            out.extend(message.server_content.audio_chunks)
        if len(out) >= n:
            break
    return out


async def count_chunks(session: AsyncMusicSession, seconds: float) -> int:
    """How many audio chunks arrive within ``seconds``."""
    count = 0

    async def read() -> None:
        nonlocal count
        async for message in session.receive():
            if message.server_content is not None:
                count += len(message.server_content.audio_chunks)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read(), seconds)
    return count


# ---- conversions ----


def test_prompts_in_every_form() -> None:
    class Obj:
        text = "piano"
        weight = 0.25

    wire = prompts_to_wire(
        [
            {"text": "minimal techno", "weight": 1.0},
            ("ambient strings", 0.5),
            Obj(),
            WeightedPrompt("funk bass and drums"),
            "bossa nova guitar",
        ]
    )
    assert wire == [
        {"text": "minimal techno", "weight": 1.0},
        {"text": "ambient strings", "weight": 0.5},
        {"text": "piano", "weight": 0.25},
        {"text": "funk bass and drums", "weight": 1.0},
        {"text": "bossa nova guitar", "weight": 1.0},
    ]
    assert prompts_to_wire({"text": "jazz"}) == [{"text": "jazz", "weight": 1.0}]
    with pytest.raises(TypeError):
        prompts_to_wire([42])


def test_config_in_camel_snake_and_objects() -> None:
    snake = {"bpm": 90, "mute_drums": True, "top_k": 40, "seed": None, "only_bass_and_drums": False}
    assert config_to_wire(snake) == {
        "bpm": 90,
        "muteDrums": True,
        "topK": 40,
        "onlyBassAndDrums": False,
    }
    camel = {"bpm": 90, "muteBass": True, "musicGenerationMode": "QUALITY"}
    assert config_to_wire(camel) == camel
    assert config_to_wire(None) == {} and config_to_wire({}) == {}

    class Config:
        bpm = 120
        scale = "D_MAJOR_B_MINOR"
        density = None

    assert config_to_wire(Config()) == {"bpm": 120, "scale": "D_MAJOR_B_MINOR"}


def test_google_genai_types_convert() -> None:
    types = pytest.importorskip("google.genai.types")
    prompt = types.WeightedPrompt(text="lo-fi hip hop piano", weight=0.8)
    assert prompts_to_wire([prompt]) == [{"text": "lo-fi hip hop piano", "weight": 0.8}]
    config = types.LiveMusicGenerationConfig(
        bpm=80, scale=types.Scale.C_MAJOR_A_MINOR, mute_drums=True
    )
    assert config_to_wire(config) == {"bpm": 80, "scale": "C_MAJOR_A_MINOR", "muteDrums": True}


def test_server_messages_parse() -> None:
    message = MusicServerMessage.from_wire(
        {
            "serverContent": {
                "audioChunks": [
                    {
                        "data": "AAECAw==",
                        "mimeType": MIME,
                        "sourceMetadata": {
                            "clientContent": {"weightedPrompts": [{"text": "jazz", "weight": 1}]},
                            "musicGenerationConfig": {"bpm": 100, "muteBass": True},
                        },
                    },
                    {"data": "BAU=", "mimeType": MIME},
                ]
            }
        }
    )
    assert message.server_content is not None
    first = message.server_content.audio_chunks[0]
    assert first.data == b"\x00\x01\x02\x03" and first.mime_type == MIME
    assert message.audio == b"\x00\x01\x02\x03\x04\x05"
    assert first.source_metadata is not None
    config = first.source_metadata.music_generation_config
    assert config is not None and config.bpm == 100 and config.mute_bass is True
    content = first.source_metadata.client_content
    assert content is not None and content.weighted_prompts == [WeightedPrompt("jazz", 1.0)]
    filtered = MusicServerMessage.from_wire({"filteredPrompt": {"text": "", "filteredReason": "x"}})
    assert filtered.filtered_prompt is not None and filtered.filtered_prompt.filtered_reason == "x"
    assert filtered.audio == b"" and filtered.audio_chunk is None
    assert MusicServerMessage.from_wire({"warning": "slow"}).warning == "slow"


def test_parse_prompt() -> None:
    assert parse_prompt("ambient strings:0.5") == ("ambient strings", 0.5)
    assert parse_prompt("piano") == ("piano", 1.0)
    assert parse_prompt("jazz: smooth") == ("jazz: smooth", 1.0)


# ---- against the server ----


async def test_sdk_plays_pauses_resumes(music_serve: ServerProcess) -> None:
    client = Client(music_serve.http_url, api_key="test-key")
    async with client.aio.live.music.connect(model="models/lyria-realtime-exp") as session:
        assert session.setup_complete is not None
        await session.set_weighted_prompts(
            prompts=[{"text": "minimal techno", "weight": 1.0}, ("piano", 0.5)]
        )
        await session.set_music_generation_config(config={"bpm": 100, "mute_bass": False})
        await session.play()
        got = await take_chunks(session, 10)
        assert len(got) >= 10
        assert {c.mime_type for c in got} == {MIME}
        pcm = stereo(got)
        assert len(pcm) == len(got) * CHUNK_FRAMES
        assert np.abs(pcm).max() > 1000 and float(pcm.std()) > 100  # music, not silence
        source = got[-1].source_metadata
        assert source is not None and source.music_generation_config is not None
        assert source.music_generation_config.bpm == 100
        assert source.client_content is not None
        assert [p.text for p in source.client_content.weighted_prompts] == [
            "minimal techno",
            "piano",
        ]

        await session.pause()
        assert await count_chunks(session, 1.0) <= 1  # one may have been in flight
        assert await count_chunks(session, 0.6) == 0  # and then nothing while paused

        await session.play()
        resumed = await take_chunks(session, 3)
        assert len(resumed) >= 3 and np.abs(stereo(resumed)).max() > 1000


async def test_bad_config_closes_1007(music_serve: ServerProcess) -> None:
    client = Client(music_serve.http_url)
    with pytest.raises(LiveConnectionClosed) as caught:
        async with client.aio.live.music.connect(model="models/lyria-realtime-exp") as session:
            await session.set_weighted_prompts(prompts=[("minimal techno", 1.0)])
            await session.set_music_generation_config(config={"bpm": 400})
            async for _ in session.receive():
                pass
    assert caught.value.code == 1007 and "bpm" in caught.value.reason
    assert session.close_code == 1007
    with pytest.raises(LiveConnectionClosed):
        await session.play()  # a closed session refuses to send


async def test_unknown_model_is_refused(music_serve: ServerProcess) -> None:
    client = Client(music_serve.http_url)
    with pytest.raises(LiveConnectionClosed) as caught:
        async with client.aio.live.music.connect(model="models/gemini-2.0-flash"):
            pass
    assert caught.value.code == 1008


async def test_music_over_tls(music_serve: ServerProcess) -> None:
    assert music_serve.https_url and music_serve.cert
    context = ssl.create_default_context(cafile=music_serve.cert)
    client = Client(music_serve.https_url, ssl=context, api_version="v1beta")
    assert client.live_url("BidiGenerateMusic", client.music_api_version).startswith("wss://")
    async with client.aio.live.music.connect(model="lyria-realtime-exp") as session:
        await session.set_weighted_prompts(prompts="ambient strings")
        await session.play()
        assert len(await take_chunks(session, 2)) >= 2


def test_sync_twin_receives_chunks(music_serve: ServerProcess) -> None:
    client = Client(music_serve.http_url)
    with client.live.music.connect(model="models/lyria-realtime-exp") as session:
        session.set_music_generation_config(config={"bpm": 120, "seed": 3})
        session.set_weighted_prompts(prompts=[WeightedPrompt("funk bass and drums", 1.0)])
        session.play()
        chunks: list[AudioChunk] = []
        for message in session.receive():
            if message.server_content is not None:
                chunks.extend(message.server_content.audio_chunks)
            if len(chunks) >= 3:
                break
        session.pause()
    assert len(chunks) >= 3 and np.abs(stereo(chunks)).max() > 1000
    assert session.is_closed


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "openlive.cli.main", "music", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_cli_writes_music_wav(music_serve: ServerProcess, tmp_path: Path) -> None:
    out = tmp_path / "techno.wav"
    done = run_cli(
        "minimal techno",
        "--bpm",
        "120",
        "--seconds",
        "3",
        "--output",
        str(out),
        "--url",
        music_serve.http_url,
    )
    assert done.returncode == 0, done.stderr
    assert "rendering:" in done.stderr and "3.0 / 3.0 s" in done.stderr
    with wave.open(str(out), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (48000, 2, 2)
        frames = wav.getnframes()
        pcm = np.frombuffer(wav.readframes(frames), dtype="<i2")
    assert abs(frames / 48000 - 3.0) < 0.05
    assert np.abs(pcm).max() > 1000 and float(pcm.std()) > 100


def test_cli_reports_a_refusal(music_serve: ServerProcess, tmp_path: Path) -> None:
    out = tmp_path / "never.wav"
    done = run_cli(
        "minimal techno",
        "--bpm",
        "400",
        "--seconds",
        "2",
        "--output",
        str(out),
        "--url",
        music_serve.http_url,
    )
    assert done.returncode == 1
    assert "1007" in done.stderr and "bpm" in done.stderr
    assert not out.exists()
