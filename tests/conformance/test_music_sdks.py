"""Live music (``BidiGenerateMusic``) through the unmodified google-genai
(``client.aio.live.music.connect``) and @google/genai (``ai.live.music.connect``) against
``openlive serve``: prompts and config steer a paced stream of 48 kHz stereo PCM16; PAUSE stops
the chunks and PLAY resumes them; bad prompts and settings close 1007 naming the field."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time

import numpy as np
import pytest
from google.genai import errors, types
from websockets.exceptions import ConnectionClosedError

from ..helpers import ServerProcess
from .test_google_genai import sdk_client
from .test_js_genai import JS

pytestmark = pytest.mark.asyncio(loop_scope="package")

MUSIC = "models/lyria-realtime-exp"
V1ALPHA = {"api_version": "v1alpha"}


async def chunks(session: object, n: int) -> list[types.AudioChunk]:
    out: list[types.AudioChunk] = []
    async for message in session.receive():  # type: ignore[attr-defined]
        if message.server_content and message.server_content.audio_chunks:
            out.extend(message.server_content.audio_chunks)
            if len(out) >= n:
                return out
    return out


async def test_google_genai_plays_steers_pauses_and_resumes(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve, **V1ALPHA) as client:
        async with client.aio.live.music.connect(model=MUSIC) as session:
            await session.set_weighted_prompts(
                prompts=[
                    types.WeightedPrompt(text="minimal techno", weight=1.0),
                    types.WeightedPrompt(text="piano", weight=0.5),
                ]
            )
            await session.set_music_generation_config(
                config=types.LiveMusicGenerationConfig(bpm=120, seed=7, mute_drums=True)
            )
            started = time.monotonic()
            await session.play()
            got = await chunks(session, 20)  # 2 s of music
            elapsed = time.monotonic() - started
            first = got[0]
            assert first.mime_type == "audio/pcm;rate=48000;channels=2"
            pcm = np.frombuffer(b"".join(c.data for c in got), dtype="<i2").reshape(-1, 2)
            assert len(pcm) == 20 * 4800  # 100 ms chunks of 48 kHz stereo frames
            assert np.abs(pcm).max() > 1000  # music, not silence
            assert elapsed > 2.0 - 0.5 - 0.3  # paced at real time, 0.5 s lead
            source = first.source_metadata
            assert source is not None and source.music_generation_config.bpm == 120
            await session.pause()
            await asyncio.sleep(0.3)  # what was in flight arrives
            stray = await _drain(session, 0.8)
            assert stray <= 1  # nothing more while paused (a chunk rendered at the pause)
            await session.play()
            assert len(await chunks(session, 3)) >= 3


async def _drain(session: object, seconds: float) -> int:
    count = 0

    async def read() -> None:
        nonlocal count
        async for message in session.receive():  # type: ignore[attr-defined]
            if message.server_content and message.server_content.audio_chunks:
                count += 1

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read(), seconds)
    return count


@pytest.mark.parametrize(
    ("send", "reason"),
    [
        ("prompts_zero", "weights must not all be 0"),
        ("bpm", "bpm"),
    ],
)
async def test_bad_music_input_closes_1007(
    echo_serve: ServerProcess, send: str, reason: str
) -> None:
    with sdk_client(echo_serve, **V1ALPHA) as client, pytest.raises(errors.APIError) as caught:
        async with client.aio.live.music.connect(model=MUSIC) as session:
            if send == "prompts_zero":
                await session.set_weighted_prompts(
                    prompts=[types.WeightedPrompt(text="jazz", weight=0.0)]
                )
            else:
                await session.set_music_generation_config(
                    config=types.LiveMusicGenerationConfig(bpm=400)
                )
            async for _ in session.receive():
                pass
    assert caught.value.code == 1007 and reason in str(caught.value), caught.value


async def test_unknown_music_model_closes_1008(echo_serve: ServerProcess) -> None:
    # the SDK reads the setup reply itself: the close surfaces as the socket's own error
    with (
        sdk_client(echo_serve, **V1ALPHA) as client,
        pytest.raises(ConnectionClosedError) as caught,
    ):
        async with client.aio.live.music.connect(model="models/gemini-2.0-flash") as s:
            async for _ in s.receive():
                pass
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1008
    assert "is not supported for bidiGenerateMusic" in caught.value.rcvd.reason


def test_js_genai_music_session(echo_serve: ServerProcess) -> None:
    script = """
import { GoogleGenAI } from "@google/genai";
const ai = new GoogleGenAI({
  apiKey: "k", httpOptions: { baseUrl: process.argv[2], apiVersion: "v1alpha" },
});
let bytes = 0;
let chunks = 0;
let mime = "";
let done;
const enough = new Promise((resolve) => (done = resolve));
const session = await ai.live.music.connect({
  model: "models/lyria-realtime-exp",
  callbacks: {
    onmessage: (m) => {
      const chunk = m.audioChunk;
      if (chunk) {
        chunks += 1;
        mime = chunk.mimeType;
        bytes += Buffer.from(chunk.data, "base64").length;
        if (chunks >= 10) done();
      }
    },
  },
});
await session.setWeightedPrompts({ weightedPrompts: [{ text: "bossa nova guitar", weight: 1 }] });
await session.setMusicGenerationConfig({
  musicGenerationConfig: { bpm: 130, scale: "C_MAJOR_A_MINOR" },
});
session.play();
await enough;
session.close();
console.log(JSON.stringify({ chunks, bytes, mime }));
"""
    path = JS / "music.mjs"
    path.write_text(script)
    try:
        out = subprocess.run(
            ["node", str(path), echo_serve.http_url], capture_output=True, text=True, timeout=120
        )
    finally:
        path.unlink()
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["chunks"] >= 10 and result["bytes"] >= 10 * 4800 * 4
    assert result["mime"] == "audio/pcm;rate=48000;channels=2"
