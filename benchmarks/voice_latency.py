"""Voice-to-voice latency: a client replays spoken questions at real-time pace and measures,
per turn, end of user speech → first reply audio byte at the client, with the server's own
stage breakdown (endpointing, recognition, first token, first sentence synthesized), stage
real-time factors, and how many concurrent voice sessions the machine sustains in real time.

    python benchmarks/voice_latency.py [--turns 24] [--concurrency 1,2,3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import urllib.request
from typing import Any

import numpy as np

from benchmarks._common import loop_lag, machine, percentile, start_openlive
from openlive import Client
from openlive.audio import SPEECH_RATE, resample
from openlive.client import send_audio
from openlive.models.llm.catalog import DEFAULT_LLM
from openlive.models.speech.tts import PiperTts
from openlive.session.listening import SPECULATE_AFTER_MS

QUESTIONS = [
    "What is the capital of France?",
    "What is the capital of Italy?",
    "How many days are in a week?",
    "What color is the sky?",
    "Who wrote Romeo and Juliet?",
    "What is two plus two?",
    "Name a fruit that is yellow.",
    "What is the largest ocean?",
    "What do bees make?",
    "What is the opposite of hot?",
    "How many legs does a spider have?",
    "What planet do we live on?",
]
CONFIG = {
    "response_modalities": ["AUDIO"],
    "input_audio_transcription": {},
    "temperature": 0.0,
    "max_output_tokens": 60,
    "system_instruction": "You are a voice assistant. Answer in one short sentence.",
}


def speech_end(samples: np.ndarray) -> float:
    """Seconds to the last sample louder than -40 dBFS (the synthesized file has a tail)."""
    loud = np.nonzero(np.abs(samples) > 0.01)[0]
    return float(loud[-1] + 1) / SPEECH_RATE if loud.size else 0.0


async def one_turn(session: Any, audio: np.ndarray) -> dict[str, float]:
    first_audio: float | None = None
    transcript_at: float | None = None
    gaps: list[float] = []
    received = 0.0
    audio_start: float | None = None

    async def listen() -> None:
        nonlocal first_audio, transcript_at, received, audio_start
        async for m in session.receive():
            now = time.monotonic()
            sc = m.server_content
            if sc and sc.input_transcription and transcript_at is None:
                transcript_at = now
            if m.data:
                if first_audio is None:
                    first_audio = audio_start = now
                assert audio_start is not None
                # how late this chunk is against the playback clock (underrun if > 0)
                gaps.append(now - (audio_start + received))
                received += len(m.data) / 2 / 24000

    listener = asyncio.create_task(listen())
    started = time.monotonic()
    await send_audio(session, audio, trailing_silence_ms=1200)
    await asyncio.wait_for(listener, 60)
    end = started + speech_end(audio)
    assert first_audio is not None and transcript_at is not None
    return {
        "latency": first_audio - end,
        "transcript": transcript_at - end,
        "underrun": max(gaps) if gaps else 0.0,
        "reply_s": received,
    }


async def run_sessions(
    url: str,
    speech: list[np.ndarray],
    turns: int,
    concurrency: int,
    config: dict[str, Any] | None = None,
) -> list[dict[str, float]]:
    client = Client(base_url=url)
    config = config or CONFIG
    results: list[dict[str, float]] = []

    async def worker(k: int) -> None:
        async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as s:
            for i in range(turns):
                results.append(await one_turn(s, speech[(i + k * 5) % len(speech)]))
                await asyncio.sleep(0.3)

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return results


def stage_rtfs(speech: list[np.ndarray]) -> str:
    """Each stage alone on this machine (no other load): seconds of compute per second of
    audio (lower is faster; 1.0 is exactly real time)."""
    from openlive.models.speech.asr import WhisperAsr
    from openlive.models.speech.vad import VadModel

    asr = WhisperAsr(threads=2)
    asr.load()
    tts = PiperTts(threads=2)
    tts.synthesize("Warm up.")
    asr.transcribe(speech[0], "en")
    audio_s = sum(a.size for a in speech[:6]) / SPEECH_RATE
    started = time.perf_counter()
    texts = [asr.transcribe(a, "en") for a in speech[:6]]
    asr_rtf = (time.perf_counter() - started) / audio_s
    started = time.perf_counter()
    out_s = sum(tts.synthesize(t).size / 24000 for t in texts)
    tts_rtf = (time.perf_counter() - started) / out_s
    vad = VadModel().stream()
    started = time.perf_counter()
    for a in speech[:6]:
        vad.probabilities(a)
    vad_rtf = (time.perf_counter() - started) / audio_s
    return (
        f"  stage real-time factors alone: VAD {vad_rtf:.4f}, recognition {asr_rtf:.2f}, "
        f"synthesis {tts_rtf:.2f} (LLM: see text_latency, ~30 tokens/s)"
    )


def server_turns(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
        return list(json.load(response)["voice_turns"])


def med(rows: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if key in r]
    return statistics.median(values) if values else float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=24)
    parser.add_argument("--concurrency", default="1,2,3")
    args = parser.parse_args()
    tts = PiperTts(threads=2)
    speech = [resample(tts.synthesize(q), 24000, SPEECH_RATE) for q in QUESTIONS]
    print(stage_rtfs(speech))
    server = start_openlive("--no-tls")
    try:
        client = Client(base_url=server.url)
        async with client.aio.live.connect(model="gemini-2.0-flash", config=CONFIG) as s:
            await one_turn(s, speech[0])  # warm up every stage
        per_session = max(1, args.turns // 4)
        rows: list[dict[str, float]] = []
        for _ in range(4):
            rows += await run_sessions(server.url, speech, per_session, 1)
        stages = server_turns(server.url)[-len(rows) :]
        lat = [r["latency"] for r in rows]
        llm = os.environ.get("OPENLIVE_LLM") or DEFAULT_LLM  # what the server was started with
        print(
            f"voice-to-voice latency ({machine()}): embedded VAD + Whisper base + {llm} "
            f"+ Piper joe, {len(rows)} turns, end of speech -> first reply audio at the client"
        )
        p50, p95 = percentile(lat, 50) * 1000, percentile(lat, 95) * 1000
        print(
            f"  p50 {p50:5.0f} ms   p95 {p95:5.0f} ms   min {min(lat) * 1000:5.0f} ms   "
            f"max {max(lat) * 1000:5.0f} ms   (goal p50 <= 800 ms)"
        )
        print("  breakdown (server, median):")
        seen = percentile([r["transcript"] for r in rows], 50) * 1000
        print(
            f"    endpointing silence     {med(stages, 'endpoint_s') * 1000:5.0f} ms "
            f"(client sees transcript at p50 {seen:.0f} ms)"
        )
        asr_s, speech_s = med(stages, "asr_s"), med(stages, "speech_s")
        print(
            f"    recognition after it    {asr_s * 1000:5.0f} ms (utterance {speech_s:.2f} s; "
            f"recognition starts {SPECULATE_AFTER_MS} ms into the silence)"
        )
        print(f"    LLM first token         {med(stages, 'first_token_s') * 1000:5.0f} ms")
        tts_s, seg_s = med(stages, "tts_s"), med(stages, "segment_audio_s")
        print(
            f"    first piece written+TTS {med(stages, 'first_sentence_s') * 1000:5.0f} ms "
            f"(TTS {tts_s * 1000:.0f} ms for {seg_s:.2f} s of audio: RTF "
            f"{tts_s / max(seg_s, 1e-9):.2f})"
        )
        print(f"    detected end -> audio   {med(stages, 'detected_to_audio_s') * 1000:5.0f} ms")
        short = {
            **CONFIG,
            "realtime_input_config": {"automatic_activity_detection": {"silence_duration_ms": 300}},
        }
        fast = await run_sessions(server.url, speech, 8, 1, short)
        lat_s = [r["latency"] for r in fast]
        print(
            f"  with silenceDurationMs=300: p50 {percentile(lat_s, 50) * 1000:5.0f} ms  "
            f"p95 {percentile(lat_s, 95) * 1000:5.0f} ms"
        )
        for n in [int(x) for x in args.concurrency.split(",") if x]:
            conc = await run_sessions(server.url, speech, 4, n)
            lat_n = [r["latency"] for r in conc]
            late = [r["underrun"] for r in conc]
            print(
                f"  {n} concurrent session(s): latency p50 {percentile(lat_n, 50) * 1000:5.0f} ms"
                f" p95 {percentile(lat_n, 95) * 1000:5.0f} ms; reply audio worst lag behind "
                f"real time p95 {percentile(late, 95) * 1000:5.0f} ms"
            )
        print(loop_lag(server.url))
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
