"""Clients that vanish mid-reply do not stall the server (a regression test).

Once, a session that ended while another session's reply was streaming took the LLM's lock on
the event loop, so every connection froze until that reply was done: a new client's handshake
waited for it. Here a dozen clients ask for long essays and drop their TCP connections at once
while one client's long reply streams; a new client must complete its handshake, setup and a
whole (echo engine) turn while that reply is still streaming. No timing threshold: the order
of events is the test."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import ClientConnection, connect

from ..helpers import ServerProcess

pytestmark = pytest.mark.model

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
ESSAY = "Count from 1 to 500 in words, one number per line: one, two, three, and so on."


async def ask_essay(url: str) -> ClientConnection:
    ws = await connect(url)
    setup = {
        "model": "models/gemini-2.0-flash-live-001",
        "generationConfig": {
            "responseModalities": ["TEXT"],
            "maxOutputTokens": 600,
            "temperature": 0,
        },
    }
    await ws.send(json.dumps({"setup": setup}))
    assert "setupComplete" in json.loads(await ws.recv())
    turn = {"turns": [{"role": "user", "parts": [{"text": ESSAY}]}], "turnComplete": True}
    await ws.send(json.dumps({"clientContent": turn}))
    return ws


async def read_reply(ws: ClientConnection, first_text: asyncio.Event) -> int:
    chunks = 0
    while True:
        message = json.loads(await ws.recv())
        content = message.get("serverContent", {})
        if "modelTurn" in content:
            chunks += 1
            first_text.set()
        if content.get("turnComplete"):
            return chunks


async def test_vanishing_clients_do_not_stall_a_new_handshake(
    embedded_serve: ServerProcess,
) -> None:
    url = embedded_serve.http_url.replace("http://", "ws://") + PATH
    keeper = await ask_essay(url)
    streaming = asyncio.Event()
    reply = asyncio.create_task(read_reply(keeper, streaming))
    await streaming.wait()
    vanishing = [await ask_essay(url) for _ in range(12)]
    for ws in vanishing:
        assert ws.transport is not None
        ws.transport.abort()  # gone without a close frame, mid-request
    async with connect(url) as newcomer:
        # the echo engine, so the newcomer needs the event loop only, not the busy LLM; a
        # reply of ~50 chunks takes a second of the loop's time
        setup = {"model": "models/echo", "generationConfig": {"responseModalities": ["TEXT"]}}
        await newcomer.send(json.dumps({"setup": setup}))
        assert "setupComplete" in json.loads(await newcomer.recv())
        words = " ".join(f"word{i}" for i in range(60))
        turn = {"turns": [{"role": "user", "parts": [{"text": words}]}], "turnComplete": True}
        await newcomer.send(json.dumps({"clientContent": turn}))
        first = asyncio.Event()
        assert await read_reply(newcomer, first) > 20
        assert not reply.done(), "the new client waited for another session's whole reply"
    assert await reply > 100  # the reply went on streaming after the newcomer was served
    await keeper.close()
