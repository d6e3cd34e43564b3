from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openlive.server import App, ServerConfig

from .helpers import ServerProcess, free_port

LOOP_GUARD_S = float(os.environ.get("OPENLIVE_LOOP_GUARD_MS", "1000")) / 1000
"""A test fails when a server's event loop was blocked longer than this (a generous bound:
the product's promise is that inference never runs on, or waits on, the loop)."""

pytest_plugins = ["tests.model_fixtures"]


@dataclass
class RunningServer:
    app: App
    http: str
    https: str | None

    @property
    def ws(self) -> str:
        return self.http.replace("http://", "ws://")

    def worst_loop_lag(self) -> float:
        return self.app.loop_monitor.worst


@pytest.fixture(autouse=True)
def loop_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails any test during which a server it used blocked its event loop too long (the
    in-process servers' and ``openlive serve`` processes' loop-lag probes, ``/healthz``)."""
    yield
    for name, value in getattr(request.node, "funcargs", {}).items():
        if isinstance(value, RunningServer | ServerProcess):
            worst = value.worst_loop_lag()
            assert worst <= LOOP_GUARD_S, (
                f"{name}: the event loop was blocked for {worst * 1000:.0f} ms "
                f"(guard: {LOOP_GUARD_S * 1000:.0f} ms)"
            )


@contextlib.asynccontextmanager
async def running_app(config: ServerConfig) -> AsyncIterator[RunningServer]:
    app = App(config)
    await app.start()
    urls = await app.listen()
    try:
        yield RunningServer(app, urls[0], urls[1] if len(urls) > 1 else None)
    finally:
        await app.close()
    worst = app.loop_monitor.worst
    assert worst <= LOOP_GUARD_S, (
        f"the server's event loop was blocked for {worst * 1000:.0f} ms "
        f"(guard: {LOOP_GUARD_S * 1000:.0f} ms)"
    )


@pytest.fixture
async def echo_server() -> AsyncIterator[RunningServer]:
    config = ServerConfig(port=0, tls_port=0, model="echo", echo_delay=0.005, max_sessions=4)
    async with running_app(config) as server:
        yield server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real ``redis-server`` of the test's own (installed by ``scripts/install.sh --dev``),
    on a free port, discarded afterwards."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is installed by scripts/install.sh --dev")
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(
        ["redis-server", *args, "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()
