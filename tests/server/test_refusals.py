"""Refusals close with the right code: unknown (non-ASCII) keys 1008, out-of-range values 1007."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openlive.server import ServerConfig

from ..conftest import RunningServer, running_app

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def setup(**generation: Any) -> str:
    config = {"responseModalities": ["TEXT"], **generation}
    return json.dumps({"setup": {"model": "models/echo", "generationConfig": config}})


async def closed_with(ws: Any) -> tuple[int, str]:
    """The close that answers setup (a refusal sends nothing before it)."""
    with pytest.raises(ConnectionClosed) as info:
        message = await ws.recv()
        pytest.fail(f"expected a close, got {message!r}")
    rcvd = info.value.rcvd
    assert rcvd is not None
    return rcvd.code, rcvd.reason


@pytest.fixture
async def keyed_server() -> AsyncIterator[RunningServer]:
    config = ServerConfig(port=0, no_tls=True, model="echo", api_keys=["sekrit", "café"])
    async with running_app(config) as server:
        yield server


async def first_reply(server: RunningServer, header_line: bytes) -> tuple[int, str]:
    """A WebSocket handshake carrying ``header_line`` byte for byte (a client library would
    re-encode it), then setup. Returns the close code and reason of the server's first frame
    if it is a close, else 0 and the text of that frame."""
    host, port = server.http.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"GET " + PATH.encode() + b" HTTP/1.1\r\n"
            b"Host: " + f"{host}:{port}".encode() + b"\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + header_line
            + b"\r\n\r\n"
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        payload = setup().encode()
        assert len(payload) < 126
        mask = b"\x01\x02\x03\x04"
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        writer.write(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
        await writer.drain()
        first, second = await reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(await reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await reader.readexactly(8), "big")
        body = await reader.readexactly(length)
        if first & 0x0F == 0x8:
            return int.from_bytes(body[:2], "big"), body[2:].decode()
        return 0, body.decode()
    finally:
        writer.close()


@pytest.mark.parametrize(
    "query",
    ["?key=cl%C3%A9", "?key=%FF%FE%FD", "?key=%E2%9C%93sekrit", "?key=caf%C3%A9x"],
)
async def test_non_ascii_key_in_query_closes_1008(keyed_server: RunningServer, query: str) -> None:
    async with connect(keyed_server.ws + PATH + query) as ws:
        await ws.send(setup())
        code, reason = await closed_with(ws)
    assert code == 1008 and "API key not valid" in reason


@pytest.mark.parametrize(
    "header_line",
    [
        "x-goog-api-key: clé".encode(),
        "x-goog-api-key: clé".encode("latin-1"),
        "Authorization: Bearer ключ".encode(),
        b"x-goog-api-key: \xff\xfe",
    ],
)
async def test_non_ascii_key_in_header_closes_1008(
    keyed_server: RunningServer, header_line: bytes
) -> None:
    code, reason = await first_reply(keyed_server, header_line)
    assert code == 1008 and "API key not valid" in reason


async def test_non_ascii_configured_key_is_accepted(keyed_server: RunningServer) -> None:
    async with connect(keyed_server.ws + PATH + "?key=caf%C3%A9") as ws:
        await ws.send(setup())
        assert "setupComplete" in json.loads(await ws.recv())
    code, text = await first_reply(keyed_server, "x-goog-api-key: café".encode())
    assert code == 0 and "setupComplete" in json.loads(text)


async def test_server_still_serves_after_bad_keys(keyed_server: RunningServer) -> None:
    assert (await first_reply(keyed_server, b"x-goog-api-key: \xc3\xa9"))[0] == 1008
    headers = {"x-goog-api-key": "sekrit"}
    async with connect(keyed_server.ws + PATH, additional_headers=headers) as ws:
        await ws.send(setup())
        assert "setupComplete" in json.loads(await ws.recv())


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("maxOutputTokens", -5, "generationConfig.maxOutputTokens must be positive, got -5"),
        ("temperature", -1, "generationConfig.temperature must be in [0, 2], got -1"),
        ("temperature", 2.01, "generationConfig.temperature must be in [0, 2], got 2.01"),
        ("topP", 1.2, "generationConfig.topP must be in [0, 1], got 1.2"),
        ("topK", -1, "generationConfig.topK must be at least 1, got -1"),
        ("candidateCount", 3, "generationConfig.candidateCount must be 1"),
        ("presencePenalty", 2.5, "generationConfig.presencePenalty must be in [-2, 2)"),
        ("frequencyPenalty", -3, "generationConfig.frequencyPenalty must be in [-2, 2)"),
    ],
)
async def test_out_of_range_generation_value_closes_1007(
    echo_server: RunningServer, field: str, value: Any, needle: str
) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        await ws.send(setup(**{field: value}))
        code, reason = await closed_with(ws)
    assert code == 1007 and needle in reason


async def test_negative_seed_is_accepted(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        await ws.send(setup(seed=-1, temperature=0, topP=1, topK=1, maxOutputTokens=16))
        assert "setupComplete" in json.loads(await ws.recv())
