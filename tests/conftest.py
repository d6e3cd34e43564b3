from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from openlive.server import App, ServerConfig

pytest_plugins = ["tests.model_fixtures"]


@dataclass
class RunningServer:
    app: App
    http: str
    https: str | None

    @property
    def ws(self) -> str:
        return self.http.replace("http://", "ws://")


@contextlib.asynccontextmanager
async def running_app(config: ServerConfig) -> AsyncIterator[RunningServer]:
    app = App(config)
    await app.start()
    urls = await app.listen()
    try:
        yield RunningServer(app, urls[0], urls[1] if len(urls) > 1 else None)
    finally:
        await app.close()


@pytest.fixture
async def echo_server() -> AsyncIterator[RunningServer]:
    config = ServerConfig(port=0, tls_port=0, model="echo", echo_delay=0.005, max_sessions=4)
    async with running_app(config) as server:
        yield server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
