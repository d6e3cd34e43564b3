"""Several openlive nodes sharing a real redis-server: a session outlives its node.

Each test starts its own ``redis-server`` and ``openlive serve`` processes (echo engine), and
for the balancer test a real HAProxy with the configuration shipped in ``deploy/``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from openlive import Client
from openlive.client import Reconnect

from ..helpers import ROOT, ServerProcess, free_port, start_server

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def node(tmp: Path, store: str, port: int | None = None, *extra: str) -> ServerProcess:
    args = ["--model", "echo", "--no-tls", "--store", store, "--drain-seconds", "10", *extra]
    if port is not None:
        args += ["--port", str(port)]
    return start_server(tmp, *args)


def ws_url(server: ServerProcess) -> str:
    return server.http_url.replace("http://", "ws://") + PATH


def setup(handle: str | None = None) -> str:
    resumption: dict[str, Any] = {"handle": handle} if handle else {}
    return json.dumps(
        {
            "setup": {
                "model": "models/gemini-2.0-flash-exp",
                "generationConfig": {"responseModalities": ["TEXT"]},
                "sessionResumption": resumption,
            }
        }
    )


class Conversation:
    """A client that keeps the latest handle, as an application would."""

    def __init__(self) -> None:
        self.handle: str | None = None
        self.session_id = ""
        self.ws: ClientConnection | None = None
        self.goaways: list[str] = []

    async def open(self, url: str) -> None:
        self.ws = await connect(url + "?key=k", open_timeout=10)
        await self.ws.send(setup(self.handle))
        first = await self._recv()
        session_id = first["setupComplete"]["sessionId"]
        assert not self.session_id or session_id == self.session_id
        self.session_id = session_id
        await self._until_resumable()

    async def _recv(self) -> dict[str, Any]:
        assert self.ws is not None
        msg = dict(json.loads(await asyncio.wait_for(self.ws.recv(), 20)))
        update = msg.get("sessionResumptionUpdate")
        if update and update.get("newHandle"):
            self.handle = update["newHandle"]
        if "goAway" in msg:
            self.goaways.append(msg["goAway"]["timeLeft"])
        return msg

    async def _until_resumable(self) -> list[dict[str, Any]]:
        seen = []
        while True:
            msg = await self._recv()
            seen.append(msg)
            if msg.get("sessionResumptionUpdate", {}).get("resumable"):
                return seen

    async def say(self, text: str) -> str:
        assert self.ws is not None
        await self.ws.send(
            json.dumps(
                {
                    "clientContent": {
                        "turns": [{"role": "user", "parts": [{"text": text}]}],
                        "turnComplete": True,
                    }
                }
            )
        )
        seen = await self._until_resumable()
        return "".join(
            p.get("text", "")
            for m in seen
            for p in m.get("serverContent", {}).get("modelTurn", {}).get("parts", [])
        )

    async def until_closed(self) -> int:
        assert self.ws is not None
        try:
            while True:
                await self._recv()
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else 1006


async def test_resume_on_another_node_after_sigkill(tmp_path: Path, redis_url: str) -> None:
    one, two = node(tmp_path, redis_url), node(tmp_path, redis_url)
    try:
        talk = Conversation()
        await talk.open(ws_url(one))
        assert await talk.say("my name is Ada") == "echo: my name is Ada"
        assert await talk.say("I live in Lyon") == "echo: I live in Lyon"
        one.proc.send_signal(signal.SIGKILL)
        one.proc.wait()
        assert await talk.until_closed() == 1006
        await talk.open(ws_url(two))
        memory = await talk.say("[[history]]")
        assert memory == "echo: history: my name is Ada | I live in Lyon"
    finally:
        one.stop()
        two.stop()


async def test_rolling_restart_loses_no_turn(tmp_path: Path, redis_url: str) -> None:
    port_one = free_port()
    one, two = node(tmp_path, redis_url, port_one), node(tmp_path, redis_url)
    try:
        talk = Conversation()
        await talk.open(ws_url(one))
        said = []
        for word in ("alpha", "bravo"):
            said.append(word)
            await talk.say(word)
        # node one is redeployed: it drains (goAway, 1001), the client moves to node two
        one.proc.send_signal(signal.SIGTERM)
        assert await talk.until_closed() == 1001
        assert talk.goaways, "goAway comes before the drain's close"
        assert one.proc.wait(timeout=30) == 0
        await talk.open(ws_url(two))
        said.append("charlie")
        await talk.say("charlie")
        # node one is back; node two is redeployed; the client moves back
        one = node(tmp_path, redis_url, port_one)
        two.proc.send_signal(signal.SIGTERM)
        assert await talk.until_closed() == 1001
        await talk.open(ws_url(one))
        memory = await talk.say("[[history]]")
        assert memory == "echo: history: " + " | ".join(said)
    finally:
        one.stop()
        two.stop()


async def test_drain_waits_for_the_turn_in_progress(tmp_path: Path, redis_url: str) -> None:
    one, two = node(tmp_path, redis_url), node(tmp_path, redis_url)
    try:
        talk = Conversation()
        await talk.open(ws_url(one))
        assert talk.ws is not None
        await talk.ws.send(
            json.dumps(
                {
                    "clientContent": {
                        "turns": [{"role": "user", "parts": [{"text": "[[slow]] slowly"}]}],
                        "turnComplete": True,
                    }
                }
            )
        )
        await asyncio.sleep(0.5)
        one.proc.send_signal(signal.SIGTERM)
        text = ""
        try:
            while True:
                msg = await talk._recv()
                for part in msg.get("serverContent", {}).get("modelTurn", {}).get("parts", []):
                    text += part.get("text", "")
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 1001
        assert text == "echo: [[slow]] slowly"
        await talk.open(ws_url(two))
        assert await talk.say("[[history]]") == "echo: history: [[slow]] slowly"
    finally:
        one.stop()
        two.stop()


@dataclass
class Balanced:
    url: str
    nodes: list[ServerProcess]


@pytest.fixture
def balanced(tmp_path: Path, redis_url: str) -> Iterator[Balanced]:
    """Two nodes behind HAProxy with the shipped ``deploy/haproxy.cfg``."""
    if shutil.which("haproxy") is None:
        pytest.fail("haproxy is installed by scripts/install.sh --dev")
    ports = [free_port(), free_port()]
    nodes = [node(tmp_path, redis_url, p) for p in ports]
    lb_port = free_port()
    env = {
        **os.environ,
        "OPENLIVE_LB_BIND": f"127.0.0.1:{lb_port}",
        "OPENLIVE_NODE1": f"127.0.0.1:{ports[0]}",
        "OPENLIVE_NODE2": f"127.0.0.1:{ports[1]}",
    }
    log = (tmp_path / "haproxy.log").open("w")
    lb = subprocess.Popen(
        ["haproxy", "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:  # until the balancer has seen both nodes ready
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{lb_port}/readyz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(1.2)  # two health checks of each node (rise 2, inter 500 ms)
        yield Balanced(f"127.0.0.1:{lb_port}", nodes)
    finally:
        lb.terminate()
        lb.wait(timeout=10)
        for n in nodes:
            n.stop()


async def test_through_a_load_balancer_the_session_survives_its_node(balanced: Balanced) -> None:
    talk = Conversation()
    await talk.open(f"ws://{balanced.url}{PATH}")
    await talk.say("remember the number 42")
    serving = [n for n in balanced.nodes if _sessions(n) == 1]
    assert len(serving) == 1
    serving[0].proc.send_signal(signal.SIGKILL)
    serving[0].proc.wait()
    assert await talk.until_closed() == 1006
    await talk.open(f"ws://{balanced.url}{PATH}")  # the balancer sends it to the survivor
    survivor = next(n for n in balanced.nodes if n is not serving[0])
    assert _sessions(survivor) == 1
    assert await talk.say("[[history]]") == "echo: history: remember the number 42"


async def test_the_sdk_resumes_by_itself_when_its_node_dies(balanced: Balanced) -> None:
    """The openlive SDK with ``reconnect``: the node serving it is killed mid-conversation;
    the application's next turn just works, on the other node, with its memory."""
    client = Client(base_url=f"http://{balanced.url}")
    async with client.aio.live.connect(
        model="gemini-2.0-flash-exp",
        config={"response_modalities": ["TEXT"]},
        reconnect=Reconnect(backoff=0.2),
    ) as session:
        await session.send_client_content(turns="my name is Ada")
        assert "".join([m.text or "" async for m in session.receive()]) == "echo: my name is Ada"
        serving = next(n for n in balanced.nodes if _sessions(n) == 1)
        serving.proc.send_signal(signal.SIGKILL)
        serving.proc.wait()
        await session.send_client_content(turns="[[history]]")
        reply = ""
        async for message in session.receive():
            if message.server_content and message.server_content.interrupted:
                reply = ""
            reply += message.text or ""
        assert reply == "echo: history: my name is Ada"
        assert session.reconnects == 1


def _sessions(server: ServerProcess) -> int:
    if server.proc.poll() is not None:
        return 0
    with urllib.request.urlopen(server.http_url + "/healthz", timeout=5) as response:
        return int(json.load(response)["sessions"])


@pytest.mark.model
async def test_embedded_model_remembers_after_its_node_dies(
    tmp_path: Path, redis_url: str, gguf_path: Path
) -> None:
    """The embedded LLM's per-session cache is only a cache: on the other node the prompt is
    rebuilt from the kept history, and the model still knows what was said."""
    args = ("--model", "embedded", "--llm-path", str(gguf_path), "--n-ctx", "4096")
    one = start_server(tmp_path, "--no-tls", "--store", redis_url, *args, timeout=180)
    two = start_server(tmp_path, "--no-tls", "--store", redis_url, *args, timeout=180)
    try:
        talk = Conversation()
        await talk.open(ws_url(one))
        await talk.say("My name is Ada. Please greet me.")
        one.proc.send_signal(signal.SIGKILL)
        one.proc.wait()
        await talk.open(ws_url(two))
        answer = await talk.say("What is my name?")
        assert "ada" in answer.lower(), answer
    finally:
        one.stop()
        two.stop()
