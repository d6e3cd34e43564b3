"""The remote engine against a real llama.cpp server process (OpenAI-compatible API)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlive import Client
from openlive.errors import EngineError
from openlive.models import RemoteBackend
from openlive.server import ServerConfig
from openlive.session import (
    ChatMessage,
    FunctionCalls,
    GenerationDone,
    GenerationRequest,
    SamplingParams,
    TextDelta,
    ToolSpec,
)

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


WEATHER_SPEC = ToolSpec(
    "get_weather",
    "Get the current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


async def test_remote_backend_passes_tools_and_reads_the_call(llamacpp_server: str) -> None:
    """Tools go out in the OpenAI ``tools`` field; llama.cpp's server (no tool-call parser for
    this model) answers with the call as text, which the backend reads as a call and never
    streams as words."""
    backend = RemoteBackend(llamacpp_server)
    request = GenerationRequest(
        "rt",
        1,
        "You are a helpful assistant. Use a function when one fits the request.",
        (ChatMessage.of_text("user", "What's the weather in Tokyo?"),),
        SamplingParams(temperature=0.0, max_tokens=80),
        tools=(WEATHER_SPEC,),
    )
    events = [e async for e in backend.generate(request)]
    await backend.close()
    calls = [c for e in events if isinstance(e, FunctionCalls) for c in e.calls]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert [c.name for c in calls] == ["get_weather"], text
    assert "tokyo" in str(calls[0].args.get("city", "")).lower()
    assert "{" not in text


async def test_weather_story_on_the_remote_engine(llamacpp_server: str) -> None:
    """Through the server: the call reaches the client as toolCall, the answer uses the
    result."""
    config = ServerConfig(port=0, no_tls=True, model="remote", remote_url=llamacpp_server)
    tool = {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "OBJECT",
            "properties": {"city": {"type": "STRING"}},
            "required": ["city"],
        },
    }
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        live = {
            "responseModalities": ["TEXT"],
            "temperature": 0,
            "tools": [{"functionDeclarations": [tool]}],
        }
        async with client.aio.live.connect(model="gemini-2.0-flash", config=live) as s:
            await s.send_client_content(turns="What's the weather in Tokyo?")
            text = ""
            async for message in s.stream():
                text += message.text or ""
                if message.tool_call:
                    call = (message.tool_call.function_calls or [])[0]
                    assert call.name == "get_weather" and "tokyo" in call.args["city"].lower()
                    await s.send_tool_response(
                        [{"id": call.id, "name": call.name, "response": {"output": "sunny, 21 C"}}]
                    )
                if message.server_content and message.server_content.turn_complete:
                    break
    assert "sunny" in text.lower() or "21" in text


def test_images_reach_a_remote_engine_as_pixels() -> None:
    """A vision-language model behind an OpenAI-compatible server (vLLM, llama.cpp with a
    projector) reads the frame itself: it goes as an ``image_url`` data URL part, bytes
    unchanged, next to the user's words (no such model ships on a package registry, so no
    server process reads it here)."""
    import base64

    from openlive.session import InlinePart, TextPart

    frame = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    message = ChatMessage("user", (InlinePart("image/png", frame), TextPart("What is this?")))
    body = RemoteBackend("http://127.0.0.1:9")._body(
        GenerationRequest("s", 1, "", (message,), SamplingParams())
    )
    content = body["messages"][-1]["content"]
    image = next(c for c in content if c["type"] == "image_url")
    head, data = image["image_url"]["url"].split(",", 1)
    assert head == "data:image/png;base64" and base64.b64decode(data) == frame
    assert {"type": "text", "text": "What is this?"} in content
