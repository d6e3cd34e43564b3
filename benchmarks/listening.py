"""Many listening sessions: how many real-time microphone streams one core carries through the
protocol, voice activity detection and endpointing, per-session VAD (``OPENLIVE_VAD_BATCH=off``,
as before batching) against batched VAD, side by side in the same run.

    python -m benchmarks.listening [--sessions 25,50,100,200,400] [--measure 20] [--deflate]

The listening case: each session streams a 30 s loop of 16 kHz PCM16, in 100 ms chunks, each
sent once its 100 ms have elapsed (a microphone's pace; sessions are spread over the 100 ms
phase and start at different places of the loop). The loop is mostly quiet room noise
(-54 dBFS) with four short espeak-ng utterances (about a quarter of it speech), so voice
activity detection and the endpointer do real work: utterances begin and end, speculative and
partial recognitions are asked for, and every turn is answered. Recognition is a stub
(``asr = remote`` to an OpenAI-compatible endpoint in this process answering "ok" at once: with
``asr = off`` the server skips detection altogether), the echo engine replies with text, and
the end of a turn is the fixed 500 ms silence (``end_of_turn = silence``).

Clients send uncompressed frames unless ``--deflate`` (permessage-deflate, what websockets
clients offer by default: it costs the server ~30 us a chunk to inflate and the clients far
more to compress, which on 2 shared cores would take CPU from the server being measured).
A variant stops at the first N it does not keep up with (``--keep-going`` runs them all).

Measured per run (a fresh server per run, clients in separate processes):
* server CPU seconds per session per second of audio (psutil, over the measured window), and
  the event-loop thread's share;
* keeping up: the audio awaiting detection (``openlive_queue_items{queue="audio_in"}``, sampled
  every 0.5 s: the mean per session is the mean wait in chunks by Little's law, the deepest
  session's backlog its worst), the event loop's lag (``/healthz``), and the turn latency seen
  by the clients: ``turnComplete`` arrival minus the instant the speech end plus the 500 ms
  silence had been spoken;
* the clients' CPU and how late they sent their chunks (they must not be the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from benchmarks._common import Proc, machine, percentile, start_openlive
from openlive.audio import SPEECH_RATE, float_to_pcm16, read_wav, resample, write_wav

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
CHUNK_S = 0.1
CHUNK = int(SPEECH_RATE * CHUNK_S)
SILENCE_MS = 500
LINES = [
    ("What is the weather like tomorrow?", "en-us+f3", 150, 60, 2.5),
    ("Turn the lights off.", "en-us+m3", 170, 40, 4.0),
    ("Can you remind me to call my sister after lunch?", "en-gb+f2", 145, 70, 6.0),
    ("Yes, please.", "en-us+m1", 160, 50, 3.5),
]
"""Text, espeak-ng voice, speed, pitch, and the quiet before it (seconds)."""
TAIL_S = 5.0


# ---- the audio ----


def espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "line.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text],
            check=True,
            capture_output=True,
        )
        samples, rate = read_wav(out)
    return resample(samples, rate, SPEECH_RATE)


def make_loop(path: Path) -> list[float]:
    """Writes the loop; returns where each utterance's speech ends (seconds into the loop)."""
    rng = np.random.default_rng(1)
    parts: list[np.ndarray] = []
    ends: list[float] = []
    at = 0
    for text, voice, speed, pitch, before in LINES:
        quiet = int(before * SPEECH_RATE)
        speech = espeak(text, voice, speed, pitch)
        loud = np.flatnonzero(np.abs(speech) > 0.02)
        speech = speech[loud[0] : loud[-1] + 1]
        parts += [np.zeros(quiet, np.float32), speech]
        at += quiet + speech.size
        ends.append(at / SPEECH_RATE)
    parts.append(np.zeros(int(TAIL_S * SPEECH_RATE), np.float32))
    audio = np.concatenate(parts)
    audio = audio[: audio.size // CHUNK * CHUNK]
    audio = (audio + rng.normal(0, 0.002, audio.size)).astype(np.float32)
    write_wav(path, audio, SPEECH_RATE)
    return ends


# ---- the client processes ----


async def client_session(
    url: str,
    frames: list[str],
    ends: list[float],
    start: float,
    offset: int,
    window: tuple[float, float],
    deflate: bool,
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    n = len(frames)
    loop_s = n * CHUNK_S
    late: list[float] = []
    latencies: list[float] = []
    sent = 0
    compression = "deflate" if deflate else None
    async with connect(url + PATH, max_size=None, compression=compression) as ws:
        setup = {
            "setup": {"model": "models/echo", "generationConfig": {"responseModalities": ["TEXT"]}}
        }
        await ws.send(json.dumps(setup))
        await ws.recv()
        # the instants (wall clock) at which each utterance's end + silence had been spoken
        t0 = start - offset * CHUNK_S  # when position 0 of the loop would have been spoken
        deadlines: list[float] = []

        async def read() -> None:
            async for raw in ws:
                if isinstance(raw, str) and '"turnComplete"' in raw:
                    now = time.time()
                    spoken = [d for d in deadlines if d <= now]
                    if spoken and window[0] <= now <= window[1]:
                        latencies.append(now - spoken[-1])

        reader = asyncio.create_task(read())
        i = 0
        while True:
            due = start + (i + 1) * CHUNK_S  # a chunk leaves once its 100 ms have elapsed
            if due > window[1] + 1.0:
                break
            k = (offset + i) % n
            if k == 0 or i == 0:
                rep = (offset + i) // n
                deadlines.extend(t0 + rep * loop_s + e + SILENCE_MS / 1000 for e in ends)
                deadlines.sort()
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.time()
            if window[0] <= now <= window[1]:
                late.append(now - due)
            await ws.send(frames[k])
            sent += 1
            i += 1
        reader.cancel()
    return {"late": late, "latency": latencies, "sent": sent}


async def client_main(args: argparse.Namespace) -> None:
    audio, _ = read_wav(Path(args.audio))
    pcm = float_to_pcm16(audio)
    frames = [
        json.dumps(
            {
                "realtimeInput": {
                    "audio": {
                        "mimeType": "audio/pcm;rate=16000",
                        "data": base64.b64encode(pcm[i * 2 : (i + CHUNK) * 2]).decode(),
                    }
                }
            }
        )
        for i in range(0, audio.size, CHUNK)
    ]
    ends = json.loads(args.ends)
    rng = random.Random(args.seed)
    window = (args.measure_from, args.measure_to)
    jobs = []
    for k in range(args.count):
        # connections spread over the ramp; microphones are not in phase
        start = args.start + args.ramp * k / max(1, args.count) + rng.uniform(0, CHUNK_S)
        offset = rng.randrange(len(frames))
        jobs.append(client_session(args.url, frames, ends, start, offset, window, args.deflate))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    ok = [r for r in results if isinstance(r, dict)]
    failed = [repr(r) for r in results if not isinstance(r, dict)]
    cpu = psutil.Process().cpu_times()
    print(
        json.dumps(
            {
                "late": [x for r in ok for x in r["late"]],
                "latency": [x for r in ok for x in r["latency"]],
                "sent": sum(r["sent"] for r in ok),
                "failed": failed[:3],
                "n_failed": len(failed),
                "cpu": cpu.user + cpu.system,
            }
        )
    )


# ---- the stub recognizer ----


async def stub_asr() -> tuple[asyncio.Server, int, dict[str, int]]:
    """A minimal OpenAI-compatible ``/v1/audio/transcriptions``: answers "ok" at once."""
    counts = {"requests": 0}
    body = b'{"text": "ok"}'
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                counts["requests"] += 1
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, port, counts


# ---- one run ----


@dataclass
class Run:
    variant: str
    n: int
    cpu_per_session: float
    """server CPU seconds per session per second of audio"""
    loop_share: float
    server_cores: float
    backlog_mean: float
    """chunks awaiting detection, mean per session"""
    backlog_max_p90: float
    backlog_max: float
    lag_worst: float
    lag_p99: float
    latency: list[float]
    late: list[float]
    client_cores: float
    asr_requests: int
    failed: int

    @property
    def keeps_up(self) -> bool:
        return (
            self.failed == 0
            and self.backlog_max_p90 <= 3
            and self.lag_p99 <= 100
            and bool(self.latency)
            and percentile(self.latency, 95) <= 1.0
        )

    @property
    def client_bound(self) -> bool:
        """Chunks left late while the server was reading them (not held back by it)."""
        return percentile(self.late, 99) > 0.05 and self.backlog_max_p90 <= 3


def scrape(url: str) -> tuple[float, float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    total = deepest = 0.0
    for line in text.splitlines():
        if line.startswith('openlive_queue_items{queue="audio_in"}'):
            total = float(line.split()[-1])
        elif line.startswith('openlive_queue_items_max{queue="audio_in"}'):
            deepest = float(line.split()[-1])
    return total, deepest


def thread_cpu(proc: psutil.Process) -> tuple[float, float]:
    """(event loop thread, all threads) CPU seconds."""
    threads = proc.threads()
    main = sum(t.user_time + t.system_time for t in threads if t.id == proc.pid)
    return main, sum(t.user_time + t.system_time for t in threads)


async def run(
    variant: str, n: int, audio: Path, ends: list[float], asr_port: int, args: argparse.Namespace
) -> Run:
    env = {
        "OPENLIVE_ECHO_DELAY": "0",
        "OPENLIVE_END_OF_TURN": "silence",
        "OPENLIVE_VAD_BATCH": "off" if variant == "per-session" else "",
    }
    server: Proc = start_openlive(
        "--model",
        "echo",
        "--no-tls",
        "--asr",
        "remote",
        "--asr-url",
        f"http://127.0.0.1:{asr_port}/v1",
        "--max-sessions",
        str(n + 10),
        "--max-connections",
        str(n + 20),
        env=env,
    )
    try:
        ramp = max(1.0, n / 50)
        start = time.time() + 1.0
        measure_from = start + ramp + args.warmup
        measure_to = measure_from + args.measure
        procs = []
        per = math.ceil(n / math.ceil(n / args.per_client))
        for c, first in enumerate(range(0, n, per)):
            count = min(per, n - first)
            cmd = [
                sys.executable,
                "-m",
                "benchmarks.listening",
                "--client",
                "--url",
                server.url.replace("http", "ws"),
                "--audio",
                str(audio),
                "--ends",
                json.dumps(ends),
                "--count",
                str(count),
                "--seed",
                str(c),
                "--start",
                str(start + ramp * first / n),
                "--ramp",
                str(ramp * count / n),
                "--measure-from",
                str(measure_from),
                "--measure-to",
                str(measure_to),
                *(["--deflate"] if args.deflate else []),
            ]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
        ps = server.ps
        await asyncio.sleep(max(0.0, measure_from - time.time()))
        cpu0 = server.cpu()
        loop0, _ = thread_cpu(ps)
        samples: list[tuple[float, float]] = []
        while time.time() < measure_to:
            samples.append(await asyncio.to_thread(scrape, server.url))
            await asyncio.sleep(0.5)
        cpu = server.cpu() - cpu0
        loop_cpu = thread_cpu(ps)[0] - loop0
        with urllib.request.urlopen(server.url + "/healthz", timeout=10) as response:
            lag = json.load(response)["loop_lag_ms"]
        outs = []
        for p in procs:
            out, _ = await asyncio.to_thread(p.communicate)
            outs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        server.stop()
    seconds = measure_to - measure_from
    failed = sum(o["n_failed"] for o in outs)
    for o in outs:
        if o["failed"]:
            print(f"    client failures: {o['failed']}", flush=True)
    deepest = [d for _, d in samples]
    return Run(
        variant=variant,
        n=n,
        cpu_per_session=cpu / seconds / n,
        loop_share=loop_cpu / cpu if cpu else 0.0,
        server_cores=cpu / seconds,
        backlog_mean=float(np.mean([t for t, _ in samples])) / n,
        backlog_max_p90=percentile(deepest, 90),
        backlog_max=max(deepest),
        lag_worst=lag["worst"],
        lag_p99=lag["p99_recent"],
        latency=[x for o in outs for x in o["latency"]],
        late=[x for o in outs for x in o["late"]],
        # the clients ran ramp + warm-up + window: their CPU per second of that
        client_cores=sum(o["cpu"] for o in outs) / (measure_to + 1 - start),
        asr_requests=0,
        failed=failed,
    )


def line(r: Run) -> str:
    lat = r.latency
    return (
        f"  {r.variant:11s} N={r.n:3d}: {r.cpu_per_session * 1000:5.2f} ms CPU/session/s "
        f"(server {r.server_cores:4.2f} cores, loop thread {r.loop_share:4.0%}) | backlog "
        f"mean {r.backlog_mean:4.2f}, deepest p90 {r.backlog_max_p90:3.0f} max {r.backlog_max:3.0f}"
        f" chunks | loop lag p99 {r.lag_p99:5.1f} worst {r.lag_worst:5.0f} ms | turn latency "
        f"p50 {percentile(lat, 50) * 1000:5.0f} p95 {percentile(lat, 95) * 1000:5.0f} ms "
        f"(n={len(lat)}) | clients {r.client_cores:4.2f} cores, late p99 "
        f"{percentile(r.late, 99) * 1000:4.0f} ms | {r.asr_requests} recognitions"
        f"{'' if r.keeps_up else '  <- falls behind'}"
        f"{'  (client-bound)' if r.client_bound else ''}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", default="25,50,100,200,400")
    parser.add_argument("--variants", default="per-session,batched")
    parser.add_argument("--measure", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--per-client", type=int, default=200, help="sessions per client process")
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="clients compress their frames (permessage-deflate, the websockets default)",
    )
    parser.add_argument(
        "--keep-going", action="store_true", help="run every N even after one fell behind"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="openlive-listening-"))
    audio = tmp / "loop.wav"
    ends = make_loop(audio)
    loop_s = read_wav(audio)[0].size / SPEECH_RATE
    speech_s = loop_s - sum(x[4] for x in LINES) - TAIL_S
    asr, port, counts = await stub_asr()
    variants = args.variants.split(",")
    print(
        f"listening sessions ({machine()}): {loop_s:.1f} s loop, {speech_s / loop_s:.0%} speech, "
        f"100 ms chunks in real time, {'deflate' if args.deflate else 'uncompressed'} frames, "
        f"{args.measure:.0f} s measured per run; load average "
        f"before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    results: dict[str, list[Run]] = {v: [] for v in variants}
    behind: set[str] = set()
    try:
        for n in [int(x) for x in args.sessions.split(",")]:
            for variant in variants:
                if variant in behind:
                    continue
                before = counts["requests"]
                r = await run(variant, n, audio, ends, port, args)
                r.asr_requests = counts["requests"] - before
                results[variant].append(r)
                print(line(r), flush=True)
                if not r.keeps_up and not args.keep_going:
                    behind.add(variant)
    finally:
        asr.close()
    cores = os.cpu_count() or 1
    print("summary")
    for variant, runs in results.items():
        kept = [r for r in runs if r.keeps_up and not r.client_bound]
        if not kept:
            print(f"  {variant:11s}: none of the runs kept up")
            continue
        best = max(kept, key=lambda r: r.n)
        per_core = 1 / best.cpu_per_session if best.cpu_per_session else float("inf")
        print(
            f"  {variant:11s}: kept up to N={best.n} on {cores} shared cores; "
            f"{best.cpu_per_session * 1000:.2f} ms CPU per session-second there "
            f"= {per_core:.0f} sessions per core of server CPU"
        )
    if len(variants) == 2 and all(results.values()):
        pairs = zip(results[variants[0]], results[variants[1]], strict=False)
        ratios = [f"N={a.n}: {b.cpu_per_session / a.cpu_per_session:.2f}x" for a, b in pairs]
        print(f"  CPU per session, {variants[1]} / {variants[0]}: " + ", ".join(ratios))


if __name__ == "__main__":
    if "--client" in sys.argv:
        p = argparse.ArgumentParser()
        p.add_argument("--client", action="store_true")
        p.add_argument("--url")
        p.add_argument("--audio")
        p.add_argument("--ends")
        p.add_argument("--count", type=int)
        p.add_argument("--seed", type=int)
        p.add_argument("--start", type=float)
        p.add_argument("--ramp", type=float)
        p.add_argument("--measure-from", type=float)
        p.add_argument("--measure-to", type=float)
        p.add_argument("--deflate", action="store_true")
        asyncio.run(client_main(p.parse_args()))
    else:
        asyncio.run(main())
