"""Screen sharing and images through the unmodified google-genai SDK against ``openlive
serve`` on its embedded stack: frames streamed with ``send_realtime_input(video=...)`` and
images in ``clientContent`` are read by the vision stage (OCR and scene facts) and answered
about by the real LLM; bad images close the session 1007 with a reason."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from google import genai
from google.genai import errors, types

from openlive import Client
from openlive.client import AudioCollector, send_audio

from ..conformance.test_google_genai import sdk_client
from ..conformance.test_js_genai import JS
from ..helpers import ServerProcess
from ..images import error_dialog, note, shape
from ..speech import espeak
from .test_voice import VOICE

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="session")]

MODEL = "gemini-2.0-flash-live-001"
TEXT = types.LiveConnectConfig(
    response_modalities=[types.Modality.TEXT],
    system_instruction="You are a helpful assistant. Answer in one short sentence.",
    # greedy and seeded: a seeded request reads its whole prompt afresh, so its answer does not
    # depend on what earlier sessions left in the model's cache (with a reused prefix, llama.cpp
    # evaluates in other batches and the last bits of the logits move: once enough to turn
    # "read me the error message" into the dialog's title)
    generation_config=types.GenerationConfig(temperature=0.0, seed=1),
)


@asynccontextmanager
async def live(server: ServerProcess) -> AsyncIterator[genai.live.AsyncSession]:
    # the SDK turns an http:// base URL into wss://: it connects over TLS, trusting
    # openlive's generated certificate
    with sdk_client(server) as c:
        async with c.aio.live.connect(model=MODEL, config=TEXT) as session:
            yield session


def png(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")  # type: ignore[attr-defined]
    return out.getvalue()


def jpeg(image: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)  # type: ignore[attr-defined]
    return out.getvalue()


async def answer(session: genai.live.AsyncSession) -> tuple[str, types.UsageMetadata | None]:
    text = ""
    usage = None
    async for message in session.receive():
        if message.text:
            text += message.text
        if message.usage_metadata is not None:
            usage = message.usage_metadata
        if message.server_content and message.server_content.turn_complete:
            break
    return text, usage


async def test_shared_screen_error_dialog_is_read_back(embedded_serve: ServerProcess) -> None:
    frame = jpeg(error_dialog("Error: File not found: report.pdf"))
    async with live(embedded_serve) as session:
        for _ in range(3):  # a screen shared at about one frame a second
            await session.send_realtime_input(video=types.Blob(data=frame, mime_type="image/jpeg"))
            await asyncio.sleep(0.2)
        await session.send_client_content(
            turns=types.Content(
                role="user", parts=[types.Part(text="Read me the error message on my screen.")]
            )
        )
        text, usage = await answer(session)
    assert "report.pdf" in text.lower() or "not found" in text.lower(), text
    assert usage is not None and usage.prompt_tokens_details is not None
    images = [d for d in usage.prompt_tokens_details if d.modality == types.MediaModality.IMAGE]
    assert images and images[0].token_count == 258  # one frame at the default resolution


async def test_image_part_colour_and_a_changed_screen(embedded_serve: ServerProcess) -> None:
    async with live(embedded_serve) as session:
        red = types.Part(
            inline_data=types.Blob(data=png(shape((220, 30, 30))), mime_type="image/png")
        )
        await session.send_client_content(
            turns=types.Content(
                role="user", parts=[red, types.Part(text="What colour is the shape in this image?")]
            )
        )
        text, _ = await answer(session)
        assert "red" in text.lower(), text

        first = png(note("Meeting moved to Thursday"))
        await session.send_realtime_input(video=types.Blob(data=first, mime_type="image/png"))
        await session.send_realtime_input(text="What does my screen say?")
        text, _ = await answer(session)
        assert "thursday" in text.lower(), text

        second = png(note("Invoice 4471 is overdue"))
        await session.send_realtime_input(video=types.Blob(data=second, mime_type="image/png"))
        await session.send_realtime_input(text="And what does my screen say now?")
        text, _ = await answer(session)
        assert "4471" in text or "invoice" in text.lower(), text


@pytest.mark.parametrize(
    ("data", "mime", "reason"),
    [
        (b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg", "not a decodable"),
        (b"GIF89a....", "image/gif", "not supported"),
        (b"BM" + b"\x00" * 30, "image/bmp", "not supported"),
    ],
)
async def test_bad_images_close_1007_with_a_reason(
    embedded_serve: ServerProcess, data: bytes, mime: str, reason: str
) -> None:
    with pytest.raises(errors.APIError) as caught:
        async with live(embedded_serve) as session:
            await session.send_realtime_input(video=types.Blob(data=data, mime_type=mime))
            async for _ in session.receive():
                pass
    assert caught.value.code == 1007
    assert reason in str(caught.value), caught.value
    assert "realtimeInput.video" in str(caught.value)


def test_js_genai_screen_sharing_story(embedded_serve: ServerProcess, tmp_path: Path) -> None:
    """The seed documents' screen-sharing story through @google/genai: frames at about one a
    second with ``sendRealtimeInput({video})``, then a question about the screen."""
    frame = tmp_path / "screen.jpg"
    frame.write_bytes(jpeg(error_dialog("Error: Disk quota exceeded on /home")))
    script = """
import { readFileSync } from "node:fs";
import { GoogleGenAI, Modality } from "@google/genai";
const ai = new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: process.argv[2] } });
const data = readFileSync(process.argv[3]).toString("base64");
let text = "";
let done;
const finished = new Promise((resolve) => (done = resolve));
const session = await ai.live.connect({
  model: "gemini-2.0-flash-live-001",
  config: { responseModalities: [Modality.TEXT], temperature: 0 },
  callbacks: {
    onmessage: (m) => {
      text += m.text ?? "";
      if (m.serverContent?.turnComplete) done();
    },
  },
});
for (let i = 0; i < 3; i++) {
  session.sendRealtimeInput({ video: { data, mimeType: "image/jpeg" } });
  await new Promise((r) => setTimeout(r, 300));
}
session.sendClientContent({ turns: "Read me the error message on my screen." });
await finished;
session.close();
console.log(JSON.stringify({ text }));
"""
    path = JS / "share_screen.mjs"
    path.write_text(script)
    try:
        out = subprocess.run(
            ["node", str(path), embedded_serve.http_url, str(frame)],
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        path.unlink()
    assert out.returncode == 0, out.stderr
    text = json.loads(out.stdout)["text"].lower()
    assert "quota" in text or "/home" in text, text


async def test_voice_question_about_the_shared_screen(embedded_serve: ServerProcess) -> None:
    """In voice: the screen is shared, the question is spoken (by an espeak-ng voice the
    server does not use), the spoken answer reads the error back."""
    client = Client(base_url=embedded_serve.http_url)
    out = AudioCollector()
    frame = jpeg(error_dialog("Error: File not found: report.pdf"))
    question = espeak("Read me the error message on my screen.", "en-us+m3", 160)
    async with client.aio.live.connect(model=MODEL, config=VOICE) as session:
        await session.send_realtime_input(video=frame)
        sender = asyncio.create_task(send_audio(session, question, trailing_silence_ms=1500))
        async for message in session.receive():
            out.add(message)
        await sender
    said = " ".join(out.output_transcript).lower()
    assert out.seconds > 0.5, said
    assert "report" in said or "not found" in said, said


async def test_a_bad_image_among_good_ones_closes_1007(embedded_serve: ServerProcess) -> None:
    """Every image is decoded as it arrives: the bad first of two in one turn is caught."""
    bad = types.Part(inline_data=types.Blob(data=b"\xff\xd8\xff\xe0junk", mime_type="image/jpeg"))
    good = types.Part(inline_data=types.Blob(data=png(shape((0, 0, 200))), mime_type="image/png"))
    with pytest.raises(errors.APIError) as caught:
        async with live(embedded_serve) as session:
            await session.send_client_content(
                turns=types.Content(role="user", parts=[bad, good, types.Part(text="compare")])
            )
            await answer(session)
    assert caught.value.code == 1007
    assert "clientContent.turns" in str(caught.value) and "not a decodable" in str(caught.value)
