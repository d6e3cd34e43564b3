"""Voice-to-voice latency, measured as a user would feel it.

A simulated microphone per session streams 16 kHz PCM16 in 100 ms chunks, each sent once its
audio has been recorded (chunk k leaves at t0 + (k + 1) * 100 ms), and keeps streaming
silence after the question until the reply is complete. The questions are spoken by
espeak-ng voices (not the server's own Piper voice), generated at run time. Per turn the clock
starts at the last voiced sample of the question (the end of the last 10 ms frame above a small
energy threshold, measured from the audio) and stops when the first reply audio chunk reaches
the client. The server's own stage timings for the same turn (``/healthz`` ``voice_turns``,
matched by session) show where the time goes.

What it reports:

* stage real-time factors, each stage alone;
* the first-piece rules (server setting ``first_piece``) side by side: one server per rule,
  turns interleaved between them (one session talking at a time), with the stage breakdown;
* p50/p95 for 1, 2, 4 and 8 sessions talking at the same time (each its own voice and question
  order), and how many stay under 1 s at p95;
* the same turns as the earlier benchmark measured them (its question audio, Piper joe, and
  each chunk sent at its start), for comparison;
* per level, how far the reply audio fell behind real time (the longest gap a client heard
  inside a reply, p95); ``--long-replies`` asks for answers of several sentences, which still
  play when the next session asks.

    python -m benchmarks.voice_latency [--turns 12] [--concurrency 1,2,4,8]
        [--rules clause,words,sentence] [--old-turns 6] [--fixed-turns 12] [--long-replies]
        [--dump turns.json]

One full run takes about 8-10 minutes on 2 cores; ``--turns 4 --concurrency 1,2
--rules clause --old-turns 0`` takes about two.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import re
import statistics
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import Proc, loop_lag, machine, percentile, start_openlive
from openlive import Client
from openlive.audio import SPEECH_RATE, resample
from openlive.audio.pcm import float_to_pcm16, read_wav
from openlive.models.llm.catalog import DEFAULT_LLM

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
VOICES = ["en-us", "en-gb+f3", "en-us+m3"]
"""espeak-ng voices asking the questions (normal speed, 175 words a minute)."""
CONFIG = {
    "response_modalities": ["AUDIO"],
    "input_audio_transcription": {},
    "temperature": 0.0,
    "max_output_tokens": 60,
    "system_instruction": "You are a voice assistant. Answer in one short sentence.",
}
CHUNK_MS = 100
CHUNK = SPEECH_RATE * CHUNK_MS // 1000
LEAD_SILENCE_S = 0.3
"""Silence the microphone records before each question."""
FRAME = SPEECH_RATE // 100  # 10 ms
VOICED_RMS = 0.005
"""A 10 ms frame above this RMS (about -46 dBFS) is voiced."""
TURN_TIMEOUT = 45.0


def espeak(text: str, voice: str) -> np.ndarray:
    """``text`` spoken by espeak-ng's ``voice``, as 16 kHz float samples."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "175", "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    samples, rate = read_wav(io.BytesIO(wav))
    return resample(samples, rate, SPEECH_RATE)


def voiced_end(samples: np.ndarray) -> int:
    """Samples up to the end of the last voiced 10 ms frame."""
    frames = samples[: samples.size // FRAME * FRAME].reshape(-1, FRAME)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    voiced = np.nonzero(rms > VOICED_RMS)[0]
    return int(voiced[-1] + 1) * FRAME if voiced.size else 0


@dataclass
class Question:
    text: str
    voice: str
    samples: np.ndarray
    end: int = 0
    """Samples up to the last voiced one."""

    def __post_init__(self) -> None:
        self.end = voiced_end(self.samples)


@dataclass
class Turn:
    latency: float
    """Last voiced sample recorded -> first reply audio at the client (seconds)."""
    transcript: float
    underrun: float
    reply_s: float
    heard: str
    asked: str
    server: dict[str, Any] = field(default_factory=dict)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


async def one_turn(session: Any, question: Question, *, honest: bool = True) -> Turn:
    """Ask ``question`` through a simulated microphone; the reply's timings at the client.

    ``honest``: each chunk leaves once recorded, and the microphone streams silence until the
    reply is complete. Otherwise as the earlier benchmark did: each chunk leaves at its start,
    1.2 s of silence follows, and the clock starts at the last sample above -40 dBFS."""
    first_audio: float | None = None
    transcript_at: float | None = None
    gaps: list[float] = []
    received = 0.0
    heard: list[str] = []
    done = asyncio.Event()

    async def listen() -> None:
        nonlocal first_audio, transcript_at, received
        async for m in session.receive():
            now = time.monotonic()
            sc = m.server_content
            if sc and sc.input_transcription:
                heard.append(sc.input_transcription.text or "")
                if transcript_at is None:
                    transcript_at = now
            if m.data:
                if first_audio is None:
                    first_audio = now
                # how late this chunk is against the playback clock (underrun if > 0)
                gaps.append(now - (first_audio + received))
                received += len(m.data) / 2 / 24000
        done.set()

    lead = int(LEAD_SILENCE_S * SPEECH_RATE) if honest else 0
    pcm = np.concatenate([np.zeros(lead, np.float32), question.samples.astype(np.float32)])
    if not honest:
        pcm = np.concatenate([pcm, np.zeros(int(1.2 * SPEECH_RATE), np.float32)])
    listener = asyncio.create_task(listen())
    started = time.monotonic()
    if honest:
        end_at = started + (lead + question.end) / SPEECH_RATE
    else:
        loud = np.nonzero(np.abs(question.samples) > 0.01)[0]
        end_at = started + (float(loud[-1] + 1) if loud.size else 0.0) / SPEECH_RATE
    silence = np.zeros(CHUNK, np.float32)
    k = 0
    while not done.is_set() and time.monotonic() - started < TURN_TIMEOUT:
        chunk = pcm[k * CHUNK : (k + 1) * CHUNK]
        if chunk.size == 0:
            if not honest:
                break
            chunk = silence
        # a microphone delivers a chunk once it has been recorded
        due = started + ((k + 1) if honest else k) * CHUNK_MS / 1000
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await session.send_realtime_input(
            audio={"data": float_to_pcm16(chunk), "mime_type": f"audio/pcm;rate={SPEECH_RATE}"}
        )
        k += 1
    await asyncio.wait_for(listener, TURN_TIMEOUT)
    assert first_audio is not None and transcript_at is not None, "no reply"
    return Turn(
        latency=first_audio - end_at,
        transcript=transcript_at - end_at,
        underrun=max(gaps) if gaps else 0.0,
        reply_s=received,
        heard=" ".join(heard),
        asked=question.text,
    )


def server_rows(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
        return list(json.load(response)["voice_turns"])


def compute_usage(url: str) -> dict[str, list[float]]:
    """The server's ``openlive_compute_seconds`` and ``..._wait_seconds`` by kind: [ran, waited]."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    usage: dict[str, list[float]] = {}
    for line in text.splitlines():
        for column, name in enumerate(
            ("openlive_compute_seconds_total{", "openlive_compute_wait_seconds_total{")
        ):
            if line.startswith(name):
                kind = line.split('kind="', 1)[1].split('"', 1)[0]
                usage.setdefault(kind, [0.0, 0.0])[column] = float(line.rsplit(" ", 1)[1])
    return usage


def usage_line(
    before: dict[str, list[float]], after: dict[str, list[float]], turns: int, wall: float
) -> str:
    """Model work per turn by kind (ms it ran, ms it waited), and how busy the slot was."""
    parts = []
    slot = 0.0
    for kind, (ran, waited) in after.items():
        ran -= before.get(kind, [0.0, 0.0])[0]
        waited -= before.get(kind, [0.0, 0.0])[1]
        if kind != "synthesis":
            slot += ran
        if ran > 0:
            parts.append(f"{kind} {ran / turns * 1000:.0f} (waited {waited / turns * 1000:.0f})")
    return (
        f"    model work per turn, ms: {', '.join(parts)}; compute slot busy "
        f"{slot / wall:.0%} of the {wall:.0f} s"
    )


async def with_stages(url: str, session: Any, question: Question) -> Turn:
    """One turn, with the server's stage timings of the same turn (matched by session)."""
    turn = await one_turn(session, question)
    rows = await asyncio.to_thread(server_rows, url)
    mine = [r for r in rows if r.get("session") == session.session_id]
    if mine:
        turn.server = mine[-1]
    return turn


async def talk(
    url: str, questions: list[Question], turns: int, config: dict[str, Any] | None = None
) -> list[Turn]:
    """One session asking ``questions`` in turn."""
    client = Client(base_url=url)
    out: list[Turn] = []
    async with client.aio.live.connect(model="gemini-2.0-flash", config=config or CONFIG) as s:
        for i in range(turns):
            out.append(await with_stages(url, s, questions[i % len(questions)]))
            await asyncio.sleep(0.5)
    return out


def stream_of(speech: dict[str, list[Question]], k: int) -> list[Question]:
    """Session ``k``'s questions: its own voice, its own order."""
    qs = speech[VOICES[k % len(VOICES)]]
    shift = (5 * k) % len(qs)
    return qs[shift:] + qs[:shift]


def stage_rtfs(questions: list[Question]) -> str:
    """Each stage alone on this machine: seconds of compute per second of audio."""
    from openlive.models.speech.asr import WhisperAsr
    from openlive.models.speech.tts import PiperTts
    from openlive.models.speech.vad import VadModel

    asr = WhisperAsr(threads=os.cpu_count() or 2)
    asr.load()
    tts = PiperTts(threads=os.cpu_count() or 2)
    tts.synthesize("Warm up.")
    asr.transcribe(questions[0].samples, "en")
    sample = questions[:6]
    audio_s = sum(q.samples.size for q in sample) / SPEECH_RATE
    started = time.perf_counter()
    texts = [asr.transcribe(q.samples, "en") for q in sample]
    asr_rtf = (time.perf_counter() - started) / audio_s
    started = time.perf_counter()
    out_s = sum(tts.synthesize(t).size / 24000 for t in texts)
    tts_rtf = (time.perf_counter() - started) / out_s
    vad = VadModel().stream()
    started = time.perf_counter()
    for q in sample:
        vad.probabilities(q.samples)
    vad_rtf = (time.perf_counter() - started) / audio_s
    return (
        f"  stage real-time factors alone: VAD {vad_rtf:.4f}, recognition {asr_rtf:.2f}, "
        f"synthesis {tts_rtf:.2f}"
    )


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:5.0f}" if values else "  n/a"


def med(turns: list[Turn], key: str) -> float:
    values = [float(t.server[key]) for t in turns if key in t.server]
    return statistics.median(values) if values else float("nan")


def summary(turns: list[Turn]) -> str:
    lat = [t.latency for t in turns]
    return (
        f"p50 {ms(lat, 50)} ms  p95 {ms(lat, 95)} ms  min {min(lat) * 1000:5.0f}  "
        f"max {max(lat) * 1000:5.0f}  (n={len(lat)})"
    )


def breakdown(turns: list[Turn]) -> list[str]:
    """Where the time goes, medians over the turns the server reported."""
    wait = [t.latency - float(t.server["detected_to_audio_s"]) for t in turns if t.server]
    overlap = [t.server["synth_overlaps_llm"] for t in turns if "synth_overlaps_llm" in t.server]
    exact = sum(words(t.heard) == words(t.asked) for t in turns)
    out = [
        f"    end of speech -> turn committed  {ms(wait, 50)} ms (client; the server counted "
        f"{med(turns, 'endpoint_s') * 1000:.0f} ms of silence)",
        f"    recognition after it             {med(turns, 'asr_s') * 1000:5.0f} ms",
        f"    LLM first token                  {med(turns, 'first_token_s') * 1000:5.0f} ms",
        f"    first piece written              {med(turns, 'first_piece_s') * 1000:5.0f} ms",
        f"    waiting for the synthesis thread {med(turns, 'synth_wait_s') * 1000:5.0f} ms",
        f"    first piece synthesized          {med(turns, 'tts_s') * 1000:5.0f} ms "
        f"({med(turns, 'segment_audio_s'):.2f} s of audio)",
        f"    turn committed -> first audio    "
        f"{med(turns, 'detected_to_audio_s') * 1000:5.0f} ms (server)",
        f"    synthesis of piece 1 began while the LLM still wrote: {sum(overlap)}/{len(overlap)}"
        f" turns; transcripts exactly right {exact}/{len(turns)}",
    ]
    held = [t for t in turns if t.server.get("held_reply")]
    if held:
        out.append(
            f"    reply written ahead (held) in {len(held)}/{len(turns)} turns; before the commit:"
            f" recognition began {med(held, 'speculated_lead_s') * 1000:.0f} ms, reply began"
            f" {med(held, 'held_started_lead_s') * 1000:.0f} ms, first token"
            f" {med(held, 'held_first_token_lead_s') * 1000:.0f} ms"
        )
    return out


def old_questions() -> list[Question]:
    """The earlier benchmark's questions: spoken by the server's own voice."""
    from openlive.models.speech.tts import PiperTts

    tts = PiperTts(threads=os.cpu_count() or 2)
    return [
        Question(q, "piper-joe", resample(tts.synthesize(q), 24000, SPEECH_RATE)) for q in QUESTIONS
    ]


async def compare_rules(
    servers: dict[str, Proc], speech: dict[str, list[Question]], turns: int
) -> dict[str, list[Turn]]:
    """One session per server, turns interleaved so every rule meets the same machine."""
    client_turns: dict[str, list[Turn]] = {rule: [] for rule in servers}
    # question i in voice i: every rule hears the same questions in the same voices
    order = [speech[VOICES[i % len(VOICES)]][i] for i in range(len(QUESTIONS))]
    async with _sessions(servers) as sessions:
        for i in range(turns):
            for rule, (url, s) in sessions.items():
                question = order[i % len(order)]
                client_turns[rule].append(await with_stages(url, s, question))
                await asyncio.sleep(0.5)
    return client_turns


class _sessions:
    def __init__(self, servers: dict[str, Proc]) -> None:
        self.servers = servers
        self.contexts: list[Any] = []

    async def __aenter__(self) -> dict[str, tuple[str, Any]]:
        out: dict[str, tuple[str, Any]] = {}
        for rule, server in self.servers.items():
            ctx = Client(base_url=server.url).aio.live.connect(
                model="gemini-2.0-flash", config=CONFIG
            )
            out[rule] = (server.url, await ctx.__aenter__())
            self.contexts.append(ctx)
        return out

    async def __aexit__(self, *exc: object) -> None:
        for ctx in self.contexts:
            await ctx.__aexit__(None, None, None)


async def concurrent(url: str, speech: dict[str, list[Question]], n: int, turns: int) -> list[Turn]:
    per_session = max(2, math.ceil(turns / n))
    runs = await asyncio.gather(*(talk(url, stream_of(speech, k), per_session) for k in range(n)))
    return [t for run in runs for t in run]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=12, help="turns per rule and per level")
    parser.add_argument("--concurrency", default="1,2,4,8")
    parser.add_argument("--rules", default="clause,words,sentence", help="first_piece rules")
    parser.add_argument("--old-turns", type=int, default=6, help="turns the earlier way")
    parser.add_argument(
        "--fixed-turns", type=int, default=12, help="turns with a fixed silence (same run)"
    )
    parser.add_argument("--fixed-ms", type=int, default=500, help="that silence (ms)")
    parser.add_argument("--dump", help="write every turn (client and server figures) as JSON")
    parser.add_argument(
        "--long-replies",
        action="store_true",
        help="ask for answers of three or four sentences (up to 160 tokens): replies that "
        "outlast the next session's question, where a reply can fall behind real time",
    )
    args = parser.parse_args()
    if args.long_replies:
        CONFIG["system_instruction"] = (
            "You are a voice assistant. Answer in three or four full sentences."
        )
        CONFIG["max_output_tokens"] = 160
    began = time.monotonic()
    speech = {v: [Question(q, v, espeak(q, v)) for q in QUESTIONS] for v in VOICES}
    print(stage_rtfs(speech[VOICES[0]]))
    rules = [r for r in args.rules.split(",") if r]
    servers: dict[str, Proc] = {}
    try:
        for rule in rules:
            servers[rule] = start_openlive("--no-tls", "--first-piece", rule)
        for server in servers.values():  # warm up every stage of every server
            await talk(server.url, speech[VOICES[0]], 1)
        main_url = servers[rules[0]].url
        llm = os.environ.get("OPENLIVE_LLM") or DEFAULT_LLM
        print(
            f"voice-to-voice latency ({machine()}): embedded VAD + Whisper base + {llm} + Piper "
            f"joe; questions by espeak-ng {', '.join(VOICES)}; last voiced sample recorded -> "
            "first reply audio at the client"
        )
        usage_before, clock = compute_usage(main_url), time.monotonic()
        by_rule = await compare_rules(servers, speech, args.turns)
        first_usage = usage_line(
            usage_before,
            compute_usage(main_url),
            len(by_rule[rules[0]]),
            time.monotonic() - clock,
        )
        if args.dump:
            rows = {r: [asdict(t) for t in ts] for r, ts in by_rule.items()}
            Path(args.dump).write_text(json.dumps(rows, indent=1))
        for rule, turns in by_rule.items():
            print(f"  first_piece = {rule:<8}: {summary(turns)}")
        for rule, turns in by_rule.items():
            print(f"  breakdown, first_piece = {rule} (medians):")
            for line in breakdown(turns):
                print(line)
        for rule in rules[1:]:  # only the main server from here on
            servers.pop(rule).stop()
        levels = [int(x) for x in args.concurrency.split(",") if x]
        p95s: dict[int, float] = {}
        for n in levels:
            usage_before, clock = compute_usage(main_url), time.monotonic()
            turns = (
                by_rule[rules[0]] if n == 1 else await concurrent(main_url, speech, n, args.turns)
            )
            usage = (
                first_usage
                if n == 1
                else usage_line(
                    usage_before, compute_usage(main_url), len(turns), time.monotonic() - clock
                )
            )
            late = [t.underrun for t in turns]
            p95s[n] = percentile([t.latency for t in turns], 95)
            print(
                f"  {n} session(s) at once: {summary(turns)}; reply audio behind real time "
                f"p95 {ms(late, 95)} ms"
            )
            if n > 1:
                print(
                    f"    server medians: committed -> audio "
                    f"{med(turns, 'detected_to_audio_s') * 1000:.0f} ms, first token "
                    f"{med(turns, 'first_token_s') * 1000:.0f} ms, first piece synthesized "
                    f"{med(turns, 'tts_s') * 1000:.0f} ms"
                )
            if len(rules) == 1 or n > 1:  # with several rules the first level's usage is mixed
                print(usage)
        fine = [n for n in levels if all(p95s[m] < 1.0 for m in levels if m <= n)]
        print(
            f"  most sessions at once with p95 under 1 s: {max(fine) if fine else 'none'} "
            f"(levels measured: {', '.join(map(str, levels))})"
        )
        if args.fixed_turns:  # the fixed rule a client gets with silenceDurationMs, side by side
            aad = {"automatic_activity_detection": {"silence_duration_ms": args.fixed_ms}}
            fixed_config = {**CONFIG, "realtime_input_config": aad}
            fixed = await talk(main_url, stream_of(speech, 0), args.fixed_turns, fixed_config)
            semantic = by_rule[rules[0]]
            print(f"  end of turn: semantic rule (default): {summary(semantic)}")
            print(f"  end of turn: silenceDurationMs={args.fixed_ms}: {summary(fixed)}")
            for line in breakdown(fixed):
                print(line)
        if args.old_turns:
            old = old_questions()
            client = Client(base_url=main_url)
            turns = []
            async with client.aio.live.connect(model="gemini-2.0-flash", config=CONFIG) as s:
                for i in range(args.old_turns):
                    turns.append(await one_turn(s, old[i % len(old)], honest=False))
                    await asyncio.sleep(0.3)
            print(
                "  measured the earlier way (Piper joe questions, chunks sent at their start, "
                f"clock at the last sample above -40 dBFS): {summary(turns)}"
            )
        print(loop_lag(main_url))
        print(f"  run took {time.monotonic() - began:.0f} s")
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
