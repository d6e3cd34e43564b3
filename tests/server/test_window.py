"""Context window compression through the server, on the echo engine (a context window of
``echo_context_window`` words; ``[[history]]`` answers with the user texts it still sees)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openlive.server import ServerConfig

from ..conftest import running_app

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
LIGHTS = {
    "name": "turn_on_the_lights",
    "behavior": "NON_BLOCKING",
    "parameters": {"type": "OBJECT", "properties": {"room": {"type": "STRING"}}},
}


def setup(compression: Any = None, **extra: Any) -> str:
    data: dict[str, Any] = {
        "model": "models/echo",
        "generationConfig": {"responseModalities": ["TEXT"]},
        **extra,
    }
    if compression is not None:
        data["contextWindowCompression"] = compression
    return json.dumps({"setup": data})


def say(text: str) -> str:
    turns = [{"role": "user", "parts": [{"text": text}]}]
    return json.dumps({"clientContent": {"turns": turns, "turnComplete": True}})


async def reply(ws: Any) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """The text of one reply, its usage metadata, and any tool calls seen before it ended."""
    text = ""
    calls: list[dict[str, Any]] = []
    while True:
        message = json.loads(await ws.recv())
        if "toolCall" in message:
            calls += message["toolCall"]["functionCalls"]
        content = message.get("serverContent") or {}
        for part in (content.get("modelTurn") or {}).get("parts") or []:
            text += part.get("text") or ""
        if content.get("turnComplete"):
            return text, message.get("usageMetadata") or {}, calls


async def closed_with(ws: Any) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await ws.recv()
    rcvd = info.value.rcvd
    assert rcvd is not None
    return rcvd.code, rcvd.reason


def echo_config(window: int) -> ServerConfig:
    return ServerConfig(
        port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0, echo_context_window=window
    )


async def test_a_long_conversation_stays_in_the_window_and_keeps_its_latest_turns() -> None:
    async with running_app(echo_config(120)) as server, connect(server.ws + PATH) as ws:
        # int64 values as JSON strings, as the JS SDK sends them
        await ws.send(setup({"triggerTokens": "80", "slidingWindow": {"targetTokens": "40"}}))
        assert "setupComplete" in json.loads(await ws.recv())
        prompts = []
        for i in range(25):
            await ws.send(say(f"fact{i}: box {i} holds {i * 7} marbles"))
            text, usage, _ = await reply(ws)
            assert text == f"echo: fact{i}: box {i} holds {i * 7} marbles"
            prompts.append(usage["promptTokenCount"])
            assert (
                usage["totalTokenCount"] == usage["promptTokenCount"] + usage["responseTokenCount"]
            )
            assert usage["promptTokensDetails"] == [
                {"modality": "TEXT", "tokenCount": usage["promptTokenCount"]}
            ]
        await ws.send(say("[[history]]"))
        history, _, _ = await reply(ws)
    assert max(prompts) <= 80 + 6  # never beyond the trigger plus one input
    assert prompts[-1] < max(prompts[:-1]) or prompts[-1] <= 80
    seen = history.removeprefix("echo: history: ").split(" | ")
    assert seen[-1] == "fact24: box 24 holds 168 marbles"
    assert "fact23: box 23 holds 161 marbles" in seen
    assert not any(s.startswith(("fact0:", "fact1:", "fact10:")) for s in seen)


async def test_without_compression_an_outgrown_window_closes_with_the_reason() -> None:
    async with running_app(echo_config(40)) as server, connect(server.ws + PATH) as ws:
        await ws.send(setup())
        assert "setupComplete" in json.loads(await ws.recv())
        await ws.send(say("one two three four five six seven eight nine ten"))
        await reply(ws)
        await ws.send(say("eleven twelve thirteen fourteen fifteen sixteen seventeen"))
        await reply(ws)
        await ws.send(say("and this one no longer fits in forty words of context"))
        code, reason = await closed_with(ws)
    assert code == 1011
    assert reason.startswith("the conversation (")
    assert reason.endswith(
        "tokens) no longer fits the model's context window (40 tokens); "
        "enable contextWindowCompression"
    )


@pytest.mark.parametrize(
    ("compression", "field"),
    [
        ({"triggerTokens": -1}, "triggerTokens must be positive"),
        ({"trigger_tokens": 100, "sliding_window": {"target_tokens": 500}}, "targetTokens (500)"),
        ({"slidingWindow": {"targetTokens": "-3"}}, "targetTokens must not be negative"),
        ({"triggerTokens": "lots"}, "triggerTokens"),
    ],
)
async def test_invalid_compression_closes_1007(compression: dict[str, Any], field: str) -> None:
    async with running_app(echo_config(4096)) as server, connect(server.ws + PATH) as ws:
        await ws.send(setup(compression))
        code, reason = await closed_with(ws)
    assert code == 1007
    assert field in reason


async def test_a_running_background_call_survives_compression() -> None:
    tools = [{"functionDeclarations": [LIGHTS]}]
    async with running_app(echo_config(200)) as server, connect(server.ws + PATH) as ws:
        await ws.send(
            setup({"triggerTokens": 60, "slidingWindow": {"targetTokens": 30}}, tools=tools)
        )
        assert "setupComplete" in json.loads(await ws.recv())
        await ws.send(say("first words of a chat that will be dropped soon"))
        await reply(ws)
        await ws.send(say('[[call turn_on_the_lights {"room": "kitchen"}]]'))
        _, _, calls = await reply(ws)
        (call,) = calls
        for i in range(8):
            await ws.send(say(f"chatter{i} while the lights are being switched on"))
            await reply(ws)
        await ws.send(say("[[history]]"))
        history, _, _ = await reply(ws)
        assert "first words" not in history
        result = {"id": call["id"], "name": call["name"], "response": {"result": "on"}}
        await ws.send(json.dumps({"toolResponse": {"functionResponses": [result]}}))
        text, _, _ = await reply(ws)
    assert text == 'echo: turn_on_the_lights returned {"result": "on"}'
