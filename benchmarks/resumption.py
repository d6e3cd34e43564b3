"""What session resumption costs: turn time with resumption off (baseline), on with the
in-process store, and on with Redis; and the time to resume a session of N turns on a new
connection (connect + setup with the handle → setupComplete). Echo engine (no model time),
same client, same run.

    python benchmarks/resumption.py [--turns 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from benchmarks._common import machine, percentile, start_openlive

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def setup(resumption: dict[str, Any] | None) -> str:
    body: dict[str, Any] = {
        "model": "models/echo",
        "generationConfig": {"responseModalities": ["TEXT"]},
    }
    if resumption is not None:
        body["sessionResumption"] = resumption
    return json.dumps({"setup": body})


def user(text: str) -> str:
    turns = [{"role": "user", "parts": [{"text": text}]}]
    return json.dumps({"clientContent": {"turns": turns, "turnComplete": True}})


async def turn(ws: ClientConnection, text: str, resumable: bool) -> str | None:
    """One turn; with resumption, until the handle that includes it."""
    await ws.send(user(text))
    done = False
    while True:
        msg = json.loads(await ws.recv())
        if msg.get("serverContent", {}).get("turnComplete"):
            done = True
            if not resumable:
                return None
        update = msg.get("sessionResumptionUpdate", {})
        if done and update.get("newHandle"):
            return str(update["newHandle"])


async def measure(url: str, resumption: dict[str, Any] | None, turns: int) -> dict[str, Any]:
    on = resumption is not None
    times: list[float] = []
    handle = None
    async with connect(url + PATH) as ws:
        await ws.send(setup(resumption))
        await ws.recv()
        if on:
            await ws.recv()
        sentence = "a sentence of about ten words said by the user now"
        for i in range(turns):
            start = time.perf_counter()
            handle = await turn(ws, f"{sentence} {i}", on)
            times.append(time.perf_counter() - start)
    out: dict[str, Any] = {"turn_ms": [t * 1000 for t in times]}
    if not on:
        return out
    resumes: list[float] = []
    for _ in range(20):  # the same session, resumed again and again
        start = time.perf_counter()
        async with connect(url + PATH) as ws:
            await ws.send(setup({"handle": handle}))
            json.loads(await ws.recv())
            resumes.append(time.perf_counter() - start)
            update = json.loads(await ws.recv())["sessionResumptionUpdate"]
            handle = update["newHandle"]
    out["resume_ms"] = [t * 1000 for t in resumes]
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def row(name: str, values: list[float], base: float | None) -> str:
    p50, p95 = percentile(values, 50), percentile(values, 95)
    ratio = f"{p50 / base:.2f}x" if base else "1.00x"
    return f"| {name} | {p50:.2f} | {p95:.2f} | {ratio} |"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=100)
    args = parser.parse_args()
    redis = None
    port = free_port()
    if shutil.which("redis-server"):
        redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tempfile.mkdtemp(),
            ],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.5)
    env = {"OPENLIVE_ECHO_DELAY": "0"}
    memory = start_openlive("--model", "echo", "--no-tls", env=env)
    stores = {"memory": memory}
    if redis is not None:
        stores["redis"] = start_openlive(
            "--model", "echo", "--no-tls", "--store", f"redis://127.0.0.1:{port}/0", env=env
        )
    try:
        ws_memory = memory.url.replace("http", "ws")
        base = await measure(ws_memory, None, args.turns)
        results = {
            name: await measure(p.url.replace("http", "ws"), {}, args.turns)
            for name, p in stores.items()
        }
    finally:
        for p in stores.values():
            p.stop()
        if redis is not None:
            redis.kill()
    print(f"# resumption cost, {machine()}, {args.turns} turns per run, echo engine")
    print("| turn (send → turnComplete, or its handle) | p50 ms | p95 ms | p50 vs off |")
    print("|---|---|---|---|")
    b50 = percentile(base["turn_ms"], 50)
    print(row("resumption off", base["turn_ms"], None))
    for name, res in results.items():
        print(row(f"resumption on, {name} store", res["turn_ms"], b50))
    print()
    title = f"resume a {args.turns}-turn session (connect → setupComplete)"
    print(f"| {title} | p50 ms | p95 ms | vs memory |")
    print("|---|---|---|---|")
    m50 = percentile(results["memory"]["resume_ms"], 50)
    for name, res in results.items():
        print(row(f"{name} store", res["resume_ms"], None if name == "memory" else m50))


if __name__ == "__main__":
    asyncio.run(main())
