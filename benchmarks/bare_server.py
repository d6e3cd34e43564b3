"""The baseline for protocol_overhead.py: a bare websockets server that JSON-parses every
message and base64-decodes its audio, and answers ``{"sync": …}`` so the client knows it is done."""

from __future__ import annotations

import asyncio
import base64
import json

from websockets.asyncio.server import ServerConnection, serve


async def handler(ws: ServerConnection) -> None:
    count = 0
    async for frame in ws:
        message = json.loads(frame)
        if "sync" in message:
            await ws.send(json.dumps({"count": count}))
            continue
        base64.b64decode(message["realtimeInput"]["audio"]["data"])
        count += 1


async def main() -> None:
    async with serve(handler, "127.0.0.1", 0, max_size=16 * 2**20) as server:
        print("PORT", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
