"""The music route in process, on the wire: a playing session outlives the idle timeout, a
paused one does not; out-of-range numbers close 1007, not 1011."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect

from openlive.server import ServerConfig

from ..conftest import running_app

PATH = "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateMusic"


async def start(ws: object) -> None:
    await ws.send(json.dumps({"setup": {"model": "models/lyria-realtime-exp"}}))  # type: ignore[attr-defined]
    assert "setupComplete" in json.loads(await ws.recv())  # type: ignore[attr-defined]
    prompts = {"clientContent": {"weightedPrompts": [{"text": "house", "weight": 1}]}}
    await ws.send(json.dumps(prompts))  # type: ignore[attr-defined]


async def test_playing_outlives_the_idle_timeout_pausing_does_not() -> None:
    config = ServerConfig(port=0, tls_port=0, model="echo", idle_timeout=1.0)
    async with running_app(config) as server, connect(server.ws + PATH) as ws:
        await start(ws)
        await ws.send(json.dumps({"playbackControl": "PLAY"}))
        began = time.monotonic()
        seconds = 0.0
        while time.monotonic() - began < 3.0:  # three idle timeouts with no client message
            message = json.loads(await ws.recv())
            seconds += len(message["serverContent"]["audioChunks"]) * 0.1
        assert seconds >= 2.0
        await ws.send(json.dumps({"playbackControl": "PAUSE"}))
        with_close = None
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 5.0)
        except Exception:  # the close after the idle timeout
            with_close = ws.close_code, ws.close_reason
        assert with_close is not None and with_close[0] == 1000
        assert "idle" in (with_close[1] or "")


async def test_huge_numbers_close_1007() -> None:
    config = ServerConfig(port=0, tls_port=0, model="echo")
    async with running_app(config) as server:
        for message in (
            {"musicGenerationConfig": {"bpm": 10**400}},
            {"clientContent": {"weightedPrompts": [{"text": "jazz", "weight": 10**400}]}},
        ):
            async with connect(server.ws + PATH) as ws:
                await ws.send(json.dumps({"setup": {"model": "models/lyria-realtime-exp"}}))
                await ws.recv()
                await ws.send(json.dumps(message))
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 5.0)
                except Exception:
                    pass
                assert ws.close_code == 1007, (message, ws.close_code, ws.close_reason)


async def test_the_soundfont_loads_before_the_server_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Loading the SoundFont holds the GIL for a second or more: an echo server too loads it at
    start-up, off the loop and before it accepts a session, never at the first music session
    (CI saw a 5.5 s stall of every session's loop when the first one loaded it)."""
    from openlive.music import render
    from openlive.server import app as app_module

    order: list[str] = []
    monkeypatch.setattr(render, "load_soundfont", lambda path=None: order.append("soundfont"))
    listen = app_module.App.listen

    async def listening(self: app_module.App) -> list[str]:
        order.append("listen")
        return await listen(self)

    monkeypatch.setattr(app_module.App, "listen", listening)
    async with running_app(ServerConfig(port=0, no_tls=True, model="echo")):
        assert order == ["soundfont", "listen"]
