"""Server memory: RSS idle (echo engine only), with the embedded model loaded, and per extra
idle session, against the bare websockets server of protocol_overhead.py holding as many
connections.

    python benchmarks/memory.py [--sessions 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from benchmarks._common import Proc, machine, start_openlive, start_script

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
SETUP = json.dumps(
    {
        "setup": {
            "model": "models/gemini-2.0-flash",
            "generationConfig": {"responseModalities": ["TEXT"]},
        }
    }
)


async def open_sessions(server: Proc, n: int, setup: bool) -> list[ClientConnection]:
    sockets = []
    for _ in range(n):
        ws = await connect(server.url.replace("http", "ws") + PATH)
        if setup:
            await ws.send(SETUP)
            await ws.recv()
        sockets.append(ws)
    return sockets


def settle(server: Proc) -> float:
    time.sleep(1.0)
    return server.rss_mb()


async def per_session(server: Proc, n: int, setup: bool) -> tuple[float, float]:
    before = settle(server)
    sockets = await open_sessions(server, n, setup)
    after = settle(server)
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()
    return before, (after - before) / n


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    n = args.sessions

    echo = start_openlive("--model", "echo", "--no-tls", "--max-sessions", str(n + 1))
    try:
        idle = settle(echo)
        _, echo_per = await per_session(echo, n, True)
    finally:
        echo.stop()

    embedded = start_openlive("--no-tls", "--max-sessions", str(n + 1))
    try:
        started = settle(embedded)
        client = await connect(embedded.url.replace("http", "ws") + PATH)
        await client.send(SETUP)
        await client.recv()
        await client.send(
            json.dumps(
                {
                    "clientContent": {
                        "turns": [{"role": "user", "parts": [{"text": "Say hi."}]}],
                        "turnComplete": True,
                    }
                }
            )
        )
        while not json.loads(await client.recv()).get("serverContent", {}).get("turnComplete"):
            pass
        await client.close()
        loaded, model_per = await per_session(embedded, n, True)
    finally:
        embedded.stop()

    bare = start_script(Path(__file__).with_name("bare_server.py"))
    try:
        bare_idle, bare_per = await per_session(bare, n, False)
    finally:
        bare.stop()

    print(f"server memory ({machine()}), RSS, {n} extra idle sessions")
    print(f"  openlive idle (echo engine only)        : {idle:7.1f} MiB")
    print(f"  openlive loaded, before any turn        : {started:7.1f} MiB")
    print(
        f"  openlive after a first turn             : {loaded:7.1f} MiB "
        f"(+{loaded - idle:.0f} MiB for LLM, voice models, 32k context, buffers)"
    )
    print(f"  per extra idle session (echo)           : {echo_per * 1024:7.1f} KiB")
    print(f"  per extra idle session (embedded)       : {model_per * 1024:7.1f} KiB")
    print(f"  bare websockets server idle             : {bare_idle:7.1f} MiB")
    print(f"  bare per extra idle connection          : {bare_per * 1024:7.1f} KiB")
    if bare_per > 0:
        print(f"  ratio per session (echo / bare)         : {echo_per / bare_per:7.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
