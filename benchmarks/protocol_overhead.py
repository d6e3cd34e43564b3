"""Protocol overhead: server CPU seconds per 10,000 realtime-input messages of 100 ms of 16 kHz
PCM audio, openlive (accepted, validated, handed to the echo engine which only counts) against a
bare websockets server (JSON parse + base64 decode), same client, same run, alternating rounds.

    python benchmarks/protocol_overhead.py [--messages 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
from pathlib import Path

from websockets.asyncio.client import connect

from benchmarks._common import Proc, machine, start_openlive, start_script

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
AUDIO = base64.b64encode(bytes(range(256)) * 12 + bytes(128)).decode()  # 3,200 bytes = 100 ms
FRAME = json.dumps(
    {"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000", "data": AUDIO}}}
)


async def run_openlive(server: Proc, n: int) -> float:
    async with connect(server.url.replace("http", "ws") + PATH, max_size=None) as ws:
        await ws.send(
            json.dumps(
                {
                    "setup": {
                        "model": "models/echo",
                        "generationConfig": {"responseModalities": ["TEXT"]},
                    }
                }
            )
        )
        await ws.recv()
        before = server.cpu()
        for _ in range(n):
            await ws.send(FRAME)
        await ws.send(
            json.dumps(
                {
                    "clientContent": {
                        "turns": [{"role": "user", "parts": [{"text": "sync"}]}],
                        "turnComplete": True,
                    }
                }
            )
        )
        while not json.loads(await ws.recv()).get("serverContent", {}).get("turnComplete"):
            pass
        return server.cpu() - before


async def run_bare(server: Proc, n: int) -> float:
    async with connect(server.url.replace("http", "ws") + PATH, max_size=None) as ws:
        before = server.cpu()
        for _ in range(n):
            await ws.send(FRAME)
        await ws.send(json.dumps({"sync": True}))
        reply = json.loads(await ws.recv())
        assert reply["count"] == n
        return server.cpu() - before


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # asr = off: audio is validated and handed to the engine, not recognized (this measures
    # the protocol; benchmarks/voice_latency.py measures recognition)
    openlive = start_openlive(
        "--model", "echo", "--no-tls", env={"OPENLIVE_ECHO_DELAY": "0", "OPENLIVE_ASR": "off"}
    )
    bare = start_script(Path(__file__).with_name("bare_server.py"))
    ours: list[float] = []
    base: list[float] = []
    try:
        await run_openlive(openlive, 500)  # warm up both
        await run_bare(bare, 500)
        for _ in range(args.rounds):
            ours.append(await run_openlive(openlive, args.messages))
            base.append(await run_bare(bare, args.messages))
    finally:
        openlive.stop()
        bare.stop()
    scale = 10_000 / args.messages
    o, b = statistics.median(ours) * scale, statistics.median(base) * scale
    audio_s = args.messages * 0.1
    print(
        f"protocol overhead ({machine()}): {args.messages} messages x 100 ms audio, "
        f"{args.rounds} rounds, median"
    )
    print(
        f"  openlive  : {o:6.2f} CPU s per 10k messages  ({o / 1e4 * 1e6:6.1f} us/msg; "
        f"{audio_s / (o / scale):7.0f}x real time)   rounds: {[round(x, 2) for x in ours]}"
    )
    print(
        f"  bare      : {b:6.2f} CPU s per 10k messages  ({b / 1e4 * 1e6:6.1f} us/msg)"
        f"   rounds: {[round(x, 2) for x in base]}"
    )
    print(f"  ratio     : {o / b:.2f}x  (goal <= 1.5x)")


if __name__ == "__main__":
    asyncio.run(main())
