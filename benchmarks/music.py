"""What live music costs: the generator's real-time factor per style, how many streams one core
renders at once, and the same through ``openlive serve`` (the protocol, base64 and pacing on
top), against real time as the baseline every stream must beat.

    python -m benchmarks.music [--seconds 10] [--streams 20]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import time

from benchmarks._common import machine, percentile, start_openlive
from openlive.music import STYLES, MusicConfig, MusicStream


def per_style(seconds: float) -> None:
    MusicStream()  # load the SoundFont once, outside the measurement
    rtfs: dict[str, float] = {}
    for name in STYLES:
        stream = MusicStream(MusicConfig(seed=1), [(name, 1.0)])
        chunks = round(seconds / 0.1)
        start = time.process_time()
        for _ in range(chunks):
            stream.next_chunk()
        rtfs[name] = (time.process_time() - start) / seconds
    values = sorted(rtfs.values())
    print(f"generator, CPU seconds per second of music, one thread ({machine()}):")
    print(
        f"  {len(values)} styles, {seconds:g} s each: p50 {percentile(values, 50):.4f}  "
        f"p95 {percentile(values, 95):.4f}  max {max(values):.4f} "
        f"({max(rtfs, key=lambda k: rtfs[k])})"
    )


def together(streams: int, seconds: float) -> None:
    names = list(STYLES)
    all_streams = [
        MusicStream(MusicConfig(seed=i), [(names[i % len(names)], 1.0)]) for i in range(streams)
    ]
    start = time.process_time()
    wall = time.perf_counter()
    for _ in range(round(seconds / 0.1)):
        for stream in all_streams:
            stream.next_chunk()
    cpu = time.process_time() - start
    rtf = cpu / (seconds * streams)
    print(
        f"  {streams} streams rendered together, {seconds:g} s each: {cpu:.2f} CPU s "
        f"({time.perf_counter() - wall:.2f} s wall), {rtf:.4f} per stream-second: one core "
        f"keeps about {1 / rtf:.0f} streams in real time"
    )


async def served(streams: int, seconds: float) -> None:
    """``streams`` sessions through the server, each playing ``seconds``: chunk gaps at the
    client and the server's CPU per stream-second."""
    import websockets

    server = start_openlive("--no-tls", "--model", "echo", "--max-sessions", str(streams + 4))
    try:
        gaps: list[float] = []
        late: list[float] = []

        async def one(i: int) -> None:
            url = server.url.replace("http", "ws") + (
                "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateMusic"
            )
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"setup": {"model": "models/lyria-realtime-exp"}}))
                await ws.recv()
                prompt = {"text": list(STYLES)[i % len(STYLES)], "weight": 1.0}
                await ws.send(json.dumps({"clientContent": {"weightedPrompts": [prompt]}}))
                await ws.send(json.dumps({"playbackControl": "PLAY"}))
                got = 0.0
                start = last = time.perf_counter()
                while got < seconds:
                    message = json.loads(await ws.recv())
                    for chunk in message.get("serverContent", {}).get("audioChunks", []):
                        now = time.perf_counter()
                        gaps.append(now - last)
                        last = now
                        got += len(base64.b64decode(chunk["data"])) / 4 / 48000
                        late.append(max(0.0, (now - start) - got))  # behind real time

        cpu0 = server.cpu()
        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(streams)))
        cpu = server.cpu() - cpu0
        wall = time.perf_counter() - began
    finally:
        server.stop()
    gaps_ms = [g * 1000 for g in gaps[streams:]]
    print(
        f"  through openlive serve: {streams} sessions x {seconds:g} s in {wall:.1f} s; gap "
        f"between chunks p50 {percentile(gaps_ms, 50):.0f} ms p95 {percentile(gaps_ms, 95):.0f} "
        f"ms (100 ms of audio each); behind real time p95 {percentile(late, 95) * 1000:.0f} ms; "
        f"server CPU {cpu / (streams * seconds):.4f} s per stream-second"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--served", type=int, default=8, help="sessions through the server")
    args = parser.parse_args()
    began = time.monotonic()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    per_style(args.seconds)
    together(args.streams, args.seconds)
    asyncio.run(served(args.served, args.seconds))
    print(f"  run took {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
