"""Fixtures of the runtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from openlive.server import App, ServerConfig


@pytest.fixture
async def app() -> AsyncIterator[App]:
    """A server on the echo engine, started (no port served to clients is used)."""
    app = App(ServerConfig(port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0.05))
    await app.start()
    try:
        yield app
    finally:
        await app.close()
