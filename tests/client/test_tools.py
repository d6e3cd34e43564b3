"""The SDK's tools: declarations from Python functions, the automatic tool loop, and
``openlive chat --tools`` (echo engine rules: ``[[call NAME {args}]]`` makes a call)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from openlive import Client
from openlive.client import Tools, declaration_from_function
from openlive.server import ServerConfig
from openlive.session.tools import declared_tools
from openlive.types import Tool

from ..conftest import running_app
from ..helpers import start_server


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, object]:
    """Current weather for a city.

    More detail that the model does not need."""
    return {"city": city, "temp": 21, "unit": unit}


async def slow_lookup(query: str, limit: int | None = None) -> str:
    """Looks something up, slowly."""
    await asyncio.sleep(30)
    return query


def test_declarations_from_functions_are_valid_declarations() -> None:
    declaration = declaration_from_function(get_weather)
    assert declaration == {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "OBJECT",
            "properties": {
                "city": {"type": "STRING"},
                "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    }
    tools = Tools(get_weather, slow_lookup).config()
    specs = declared_tools([Tool.model_validate(t) for t in tools])  # what the server accepts
    assert [s.name for s in specs] == ["get_weather", "slow_lookup"]
    assert specs[1].parameters["properties"]["limit"] == {"type": ["integer", "null"]}  # type: ignore[index]


async def test_the_automatic_loop_answers_calls_and_honours_timeouts() -> None:
    config = ServerConfig(port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0)
    tools = Tools(get_weather, slow_lookup, timeout=0.2)
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        live_config = {"response_modalities": ["TEXT"], "tools": tools.config()}
        async with client.aio.live.connect(model="gemini-x", config=live_config) as session:
            session.use_tools(tools)
            await session.send_client_content(
                turns='[[call get_weather {"city": "Oslo"}]] [[call slow_lookup {"query": "x"}]]'
            )
            text = "".join([m.text or "" async for m in session.receive()])
    assert text == (
        'echo: get_weather returned {"output": {"city": "Oslo", "temp": 21, "unit": "celsius"}}; '
        'slow_lookup returned {"error": "TimeoutError: "}'
    )


def test_chat_cli_runs_the_tool_loop(tmp_path: Path) -> None:
    tools = tmp_path / "tools.py"
    tools.write_text(
        "def turn_on_the_lights(room: str) -> str:\n"
        '    """Turns the lights on in a room."""\n'
        "    return f'lights on in the {room}'\n"
    )
    server = start_server(tmp_path, "--model", "echo", "--no-tls")
    try:
        line = '[[call turn_on_the_lights {"room": "kitchen"}]]\n/quit\n'
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "openlive.cli.main",
                "chat",
                "--url",
                server.http_url,
                "--tools",
                str(tools),
            ],
            input=line,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert 'turn_on_the_lights returned {"output": "lights on in the kitchen"}' in result.stdout
    assert "[tool] turn_on_the_lights" in result.stderr


@pytest.mark.parametrize("hint", [set, object])
def test_parameters_that_cannot_be_declared_say_so(hint: type) -> None:
    def f(x):  # type: ignore[no-untyped-def]
        return x

    f.__annotations__ = {"x": hint}
    with pytest.raises(TypeError, match="cannot declare"):
        declaration_from_function(f)
