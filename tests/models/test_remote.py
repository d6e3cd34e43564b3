"""The remote engine against a real llama.cpp server process (OpenAI-compatible API)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlive import Client
from openlive.errors import EngineError
from openlive.models import RemoteBackend
from openlive.server import ServerConfig
from openlive.session import ChatMessage, GenerationDone, GenerationRequest, SamplingParams

from ..conftest import running_app

pytestmark = pytest.mark.model


async def test_remote_backend_streams(llamacpp_server: str) -> None:
    backend = RemoteBackend(llamacpp_server)
    request = GenerationRequest(
        "r",
        1,
        "Answer briefly.",
        (ChatMessage.of_text("user", "What is the capital of France? Answer in one word."),),
        SamplingParams(temperature=0.0, max_tokens=20),
    )
    events = [e async for e in backend.generate(request)]
    await backend.close()
    text = "".join(getattr(e, "text", "") for e in events)
    assert "paris" in text.lower()
    assert len(events) >= 2 and isinstance(events[-1], GenerationDone)
    assert events[-1].output_tokens >= 1


async def test_server_on_remote_engine(
    llamacpp_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ServerConfig(port=0, no_tls=True, model="remote", remote_url=llamacpp_server)
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        async with client.aio.live.connect(
            model="gemini-2.0-flash", config={"responseModalities": ["TEXT"], "temperature": 0}
        ) as s:
            await s.send_client_content(turns="My name is Ada. Greet me in one sentence.")
            [m async for m in s.receive()]
            await s.send_client_content(turns="What is my name?")
            text = "".join([m.text or "" async for m in s.receive()])
    assert "ada" in text.lower()


async def test_remote_down_is_an_engine_error() -> None:
    backend = RemoteBackend("http://127.0.0.1:9/v1")
    request = GenerationRequest("x", 1, "", (ChatMessage.of_text("user", "hi"),))
    with pytest.raises(EngineError, match="remote LLM"):
        [e async for e in backend.generate(request)]
    await backend.close()
