"""Voice on real audio: questions spoken by the project's own TTS and by espeak-ng voices the
server never uses, streamed in real time to ``openlive serve`` (embedded VAD, Whisper, LLM,
Piper), answers recognized back with Whisper."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from openlive import Client
from openlive.audio import SPEECH_RATE, read_wav, resample, write_wav
from openlive.client import AudioCollector, send_audio
from openlive.models.speech.asr import WhisperAsr

from ..helpers import ServerProcess
from ..speech import espeak, piper_lines

pytestmark = pytest.mark.model
VOICE = {
    "response_modalities": ["AUDIO"],
    "input_audio_transcription": {},
    "output_audio_transcription": {},
    "temperature": 0.0,
}


@pytest.fixture(scope="module")
def speech() -> dict[str, np.ndarray]:
    return piper_lines(
        {
            "france": "What is the capital of France?",
            "italy": "What is the capital of Italy?",
            "story": "Tell me a long story about a brave little dragon who learns to fly.",
        }
    )


# Voices the server never speaks with (it synthesizes with Piper's "joe"): espeak-ng's formant
# voices, female and male, American and British, slow and fast, high and low.
OTHER_VOICES = {  # name: (espeak-ng voice, words per minute, pitch 0-99)
    "female-us": ("en-us+f3", 150, 60),
    "female-gb-slow": ("en-gb+f4", 130, 50),
    "male-us-fast-low": ("en-us+m7", 190, 20),
}


@pytest.fixture(scope="module")
def other_voices() -> dict[str, dict[str, np.ndarray]]:
    lines = {
        "japan": "What is the capital of Japan?",
        "greeting": "Good morning, how are you today?",
    }
    return {
        name: {key: espeak(text, *voice) for key, text in lines.items()}
        for name, voice in OTHER_VOICES.items()
    }


@pytest.fixture(scope="module")
def asr() -> WhisperAsr:
    return WhisperAsr(threads=2)


def heard(asr: WhisperAsr, collector: AudioCollector) -> str:
    return asr.transcribe(resample(collector.samples(), 24000, SPEECH_RATE), "en").lower()


async def ask(
    server: ServerProcess, audio: np.ndarray, config: dict | None = None
) -> AudioCollector:
    client = Client(base_url=server.http_url)
    out = AudioCollector()
    async with client.aio.live.connect(
        model="gemini-live-2.5-flash-preview", config=config or VOICE
    ) as session:
        sender = asyncio.create_task(send_audio(session, audio, trailing_silence_ms=1500))
        messages = [m async for m in session.receive()]
        await sender
    for m in messages:
        out.add(m)
    out.messages = messages  # type: ignore[attr-defined]
    return out


async def test_spoken_question_spoken_answer(embedded_serve: ServerProcess, speech, asr) -> None:
    out = await ask(embedded_serve, speech["france"])
    assert "capital of france" in " ".join(out.input_transcript).lower()
    mimes = {
        p.inline_data.mime_type
        for m in out.messages
        if m.server_content  # type: ignore[attr-defined]
        and m.server_content.model_turn
        for p in m.server_content.model_turn.parts
        if p.inline_data
    }
    assert mimes == {"audio/pcm;rate=24000"}
    chunk_sizes = [len(c) for c in out.chunks]
    assert max(chunk_sizes) <= 24000 * 2 * 0.5  # never more than half a second per message
    assert out.seconds > 0.5
    assert "paris" in heard(asr, out)
    assert "paris" in " ".join(out.output_transcript).lower()
    last = out.messages[-1]  # type: ignore[attr-defined]
    assert last.server_content.turn_complete and last.usage_metadata.total_token_count > 0


@pytest.mark.parametrize("voice", ["female-us", "male-us-fast-low"])
async def test_question_in_another_voice_gets_a_spoken_answer(
    embedded_serve: ServerProcess, other_voices, asr, voice: str
) -> None:
    out = await ask(embedded_serve, other_voices[voice]["japan"])
    transcript = " ".join(out.input_transcript).lower()
    assert "capital" in transcript and "japan" in transcript  # "capital under Japan" counts
    assert "tokyo" in " ".join(out.output_transcript).lower()
    assert "tokyo" in await asyncio.to_thread(heard, asr, out)


@pytest.mark.parametrize("voice", list(OTHER_VOICES))
async def test_other_voices_are_transcribed(
    embedded_serve: ServerProcess, other_voices, voice: str
) -> None:
    config = {"response_modalities": ["TEXT"], "input_audio_transcription": {}}
    out = await ask(embedded_serve, other_voices[voice]["greeting"], config)
    transcript = " ".join(out.input_transcript).lower()
    assert "good morning" in transcript and "how are you today" in transcript
    assert out.text  # and the model answered it


async def test_barge_in(embedded_serve: ServerProcess, speech, asr) -> None:
    client = Client(base_url=embedded_serve.http_url)
    log: list[tuple[str, object]] = []
    async with client.aio.live.connect(model="gemini-2.0-flash", config=VOICE) as session:

        async def receive() -> None:
            async for m in session.stream():
                sc = m.server_content
                if m.data:
                    log.append(("audio", m.data))
                elif sc and sc.interrupted:
                    log.append(("interrupted", None))
                elif sc and sc.input_transcription:
                    log.append(("heard", sc.input_transcription.text))
                elif sc and sc.turn_complete:
                    log.append(("turn_complete", None))

        reader = asyncio.create_task(receive())
        await send_audio(session, speech["story"], trailing_silence_ms=700)
        deadline = time.monotonic() + 30
        while not any(k == "audio" for k, _ in log) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # let the story play for a second, then talk over it
        await send_audio(session, speech["france"], trailing_silence_ms=1500)
        while log.count(("turn_complete", None)) < 2 and time.monotonic() < deadline + 30:
            await asyncio.sleep(0.1)
        reader.cancel()
    kinds = [k for k, _ in log]
    cut = kinds.index("interrupted")
    assert kinds[cut + 1] == "turn_complete"
    story_audio = sum(len(d) for k, d in log[:cut] if k == "audio") / 48000
    # the story was cut off: far less audio than a long story, and none of it after the cut
    second_heard = kinds.index("heard", cut)
    assert all(k != "audio" for k in kinds[cut:second_heard])
    assert story_audio < 6.0
    answer = AudioCollector()
    answer.chunks = [d for k, d in log[second_heard:] if k == "audio"]  # type: ignore[misc]
    assert "paris" in heard(asr, answer)


async def test_manual_activity(embedded_serve: ServerProcess, speech, asr) -> None:
    config = {
        **VOICE,
        "realtime_input_config": {"automatic_activity_detection": {"disabled": True}},
    }
    client = Client(base_url=embedded_serve.http_url)
    out = AudioCollector()
    async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as session:
        await session.send_realtime_input(activity_start={})
        await send_audio(session, speech["italy"], realtime=False)
        await session.send_realtime_input(activity_end={})
        await out.collect_turn(session)
    assert "italy" in " ".join(out.input_transcript).lower()
    assert "rome" in heard(asr, out)


async def test_audio_in_text_out(embedded_serve: ServerProcess, speech) -> None:
    config = {"response_modalities": ["TEXT"], "temperature": 0.0}
    out = await ask(embedded_serve, speech["france"], config)
    assert "paris" in "".join(out.text).lower()
    assert not out.chunks


async def test_text_in_audio_out_and_both_modalities(embedded_serve: ServerProcess, asr) -> None:
    client = Client(base_url=embedded_serve.http_url)
    for modalities in (["AUDIO"], ["TEXT", "AUDIO"]):
        out = AudioCollector()
        config = {**VOICE, "response_modalities": modalities}
        async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as session:
            await session.send_client_content(turns="What is the capital of Italy? One sentence.")
            await out.collect_turn(session)
        assert "rome" in heard(asr, out)
        assert bool(out.text) == ("TEXT" in modalities)


async def test_spanish_translation_story(embedded_serve: ServerProcess, asr) -> None:
    question = piper_lines({"q": "Good morning, how are you today?"})["q"]
    config = {
        **VOICE,
        "response_modalities": ["TEXT", "AUDIO"],
        "speech_config": {"language_code": "es-ES"},
        "system_instruction": "You are a translator. Translate everything the user says from "
        "English into Spanish. Reply with only the Spanish translation.",
    }
    out = await ask(embedded_serve, question, config)
    text = "".join(out.text).lower()
    assert any(w in text for w in ("buen", "cómo", "como", "hola", "días"))
    spoken = asr.transcribe(resample(out.samples(), 24000, SPEECH_RATE), "es").lower()
    # espeak-ng's Spanish read back by Whisper base is rough ("ueno snea, comestasoi" for
    # "buenos días, ¿cómo estás hoy?"): look for the fragments that survive
    heard = ("buen", "ueno", "cómo", "como", "hola", "días", "dia", "estas", "estás")
    assert any(w in spoken for w in heard), (text, spoken)


def test_talk_cli_wav_round_trip(
    embedded_serve: ServerProcess, speech, asr, tmp_path: Path
) -> None:
    question = tmp_path / "question.wav"
    answer = tmp_path / "answer.wav"
    write_wav(question, speech["italy"], SPEECH_RATE)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "openlive.cli.main",
            "talk",
            "--url",
            embedded_serve.http_url,
            "--input",
            str(question),
            "--output",
            str(answer),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "you>" in out.stdout and "model>" in out.stdout
    samples, rate = read_wav(answer)
    assert rate == 24000 and samples.size > 24000 * 0.5
    assert "rome" in asr.transcribe(resample(samples, rate, SPEECH_RATE), "en").lower()


def test_talk_cli_without_sound_device_is_clear(embedded_serve: ServerProcess) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "openlive.cli.main", "talk", "--url", embedded_serve.http_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--input" in out.stderr


async def test_other_input_rates_are_resampled(embedded_serve: ServerProcess, speech) -> None:
    from openlive.audio import float_to_pcm16

    audio_24k = float_to_pcm16(resample(speech["italy"], SPEECH_RATE, 24000))
    config = {
        **VOICE,
        "response_modalities": ["TEXT"],
        "realtime_input_config": {"automatic_activity_detection": {"disabled": True}},
    }
    client = Client(base_url=embedded_serve.http_url)
    out = AudioCollector()
    async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as session:
        await session.send_realtime_input(activity_start={})
        for i in range(0, len(audio_24k), 4800):  # 100 ms chunks at 24 kHz
            await session.send_realtime_input(
                audio={"data": audio_24k[i : i + 4800], "mime_type": "audio/pcm;rate=24000"}
            )
        await session.send_realtime_input(activity_end={})
        await out.collect_turn(session)
    assert "capital of italy" in " ".join(out.input_transcript).lower()
    assert "rome" in "".join(out.text).lower()


async def test_audio_stream_end_flushes_the_utterance(
    embedded_serve: ServerProcess, speech
) -> None:
    config = {
        **VOICE,
        "response_modalities": ["TEXT"],
        "realtime_input_config": {"automatic_activity_detection": {"silence_duration_ms": 5000}},
    }  # only audioStreamEnd can end this turn
    client = Client(base_url=embedded_serve.http_url)
    out = AudioCollector()
    async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as session:
        await send_audio(session, speech["france"], trailing_silence_ms=300)
        await session.send_realtime_input(audio_stream_end=True)
        started = time.monotonic()
        await out.collect_turn(session)
    assert time.monotonic() - started < 4.5  # well before the 5 s silence would have ended it
    assert "capital of france" in " ".join(out.input_transcript).lower()
    assert "paris" in "".join(out.text).lower()


async def test_spoken_weather_story(embedded_serve: ServerProcess, asr) -> None:
    """Asked aloud (in a voice the server never uses), the model calls get_weather; the
    client answers and the reply, spoken, uses the result; nothing about JSON is heard."""
    question = espeak("What is the weather in Tokyo?", "en-gb+f4", 130, 50)
    tool = {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "OBJECT",
            "properties": {"city": {"type": "STRING"}},
            "required": ["city"],
        },
    }
    config = {**VOICE, "tools": [{"function_declarations": [tool]}]}
    client = Client(base_url=embedded_serve.http_url)
    out = AudioCollector()
    calls = []
    async with client.aio.live.connect(model="gemini-live-2.5-flash-preview", config=config) as s:
        sender = asyncio.create_task(send_audio(s, question, trailing_silence_ms=1500))
        async for message in s.stream():
            out.add(message)
            if message.tool_call:
                calls = message.tool_call.function_calls or []
                await s.send_tool_response(
                    [
                        {"id": c.id, "name": c.name, "response": {"output": "sunny, 21 degrees"}}
                        for c in calls
                    ]
                )
            if message.server_content and message.server_content.turn_complete:
                break
        await sender
    assert "weather" in " ".join(out.input_transcript).lower()
    assert [c.name for c in calls] == ["get_weather"]
    assert "tokyo" in calls[0].args["city"].lower()
    spoken = heard(asr, out)
    assert "sunny" in spoken or "21" in spoken or "twenty" in spoken, spoken
    assert "json" not in spoken and "{" not in " ".join(out.output_transcript)
