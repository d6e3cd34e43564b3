"""Connections are counted from the handshake on: a server at ``max_connections`` answers a
new handshake with HTTP 503, and serves again once a connection goes."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from openlive.server import ServerConfig

from ..conftest import running_app

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


async def test_handshakes_count_against_the_connection_limit() -> None:
    config = ServerConfig(
        port=0, tls_port=0, no_tls=True, model="echo", max_sessions=2, max_connections=2
    )
    async with running_app(config) as server:
        first = await connect(server.ws + PATH)  # connected, no setup yet
        second = await connect(server.ws + PATH)
        with pytest.raises(InvalidStatus) as info:
            await connect(server.ws + PATH)
        assert info.value.response.status_code == 503
        assert b"2 connections" in info.value.response.body
        await first.close()
        await first.wait_closed()
        async with connect(server.ws + PATH) as third:
            setup = {
                "model": "models/gemini-x",
                "generationConfig": {"responseModalities": ["TEXT"]},
            }
            await third.send(json.dumps({"setup": setup}))
            assert "setupComplete" in json.loads(await third.recv())
        await second.close()
        assert server.app.health()["refused_connections"] == 1
