"""Function calling through openlive's SDK against the server (echo engine rules: each
``[[call NAME {args}]]`` in the user's text is a call)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openlive import Client
from openlive.server import ServerConfig

from ..conftest import running_app

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
LIGHTS = {
    "name": "turn_on_the_lights",
    "parameters": {
        "type": "OBJECT",
        "properties": {"room": {"type": "STRING"}},
        "required": ["room"],
    },
}
CONFIG = {"response_modalities": ["TEXT"], "tools": [{"function_declarations": [LIGHTS]}]}
BACKGROUND = {
    "response_modalities": ["TEXT"],
    "tools": [{"function_declarations": [{**LIGHTS, "behavior": "NON_BLOCKING"}]}],
}
STARTED = (
    'echo: turn_on_the_lights returned {"note": "running in the background; the result will '
    'be sent when it is ready", "status": "started"}'
)


async def test_several_calls_answered_together_continue_the_turn() -> None:
    config = ServerConfig(port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0)
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        async with client.aio.live.connect(model="gemini-x", config=CONFIG) as session:
            await session.send_client_content(
                turns='[[call turn_on_the_lights {"room": "kitchen"}]] and '
                '[[call turn_on_the_lights {"room": "hall"}]]'
            )
            calls = []
            async for message in session.stream():
                if message.tool_call:
                    calls = message.tool_call.function_calls
                    break
            assert [c.args for c in calls] == [{"room": "kitchen"}, {"room": "hall"}]
            await session.send_tool_response(
                [{"id": c.id, "name": c.name, "response": {"result": "on"}} for c in calls]
            )
            text = "".join([m.text or "" async for m in session.receive()])
    assert text == (
        'echo: turn_on_the_lights returned {"result": "on"}; '
        'turn_on_the_lights returned {"result": "on"}'
    )


async def test_an_unanswered_call_times_out_and_the_conversation_goes_on() -> None:
    config = ServerConfig(
        port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0, tool_timeout=0.2
    )
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        async with client.aio.live.connect(model="gemini-x", config=CONFIG) as session:
            await session.send_client_content(turns='[[call turn_on_the_lights {"room": "x"}]]')
            messages = [m async for m in session.receive()]
    kinds = [
        "call" if m.tool_call else "cancel" if m.tool_call_cancellation else "text"
        for m in messages
        if m.tool_call or m.tool_call_cancellation or m.text
    ]
    assert kinds[:2] == ["call", "cancel"] and kinds[-1] == "text"
    assert "error" in "".join(m.text or "" for m in messages)
    assert messages[-1].server_content and messages[-1].server_content.turn_complete


def _calls(messages: list[Any]) -> list[Any]:
    return [c for m in messages if m.tool_call for c in m.tool_call.function_calls or []]


def _kinds(messages: list[Any]) -> list[str]:
    kinds = []
    for m in messages:
        sc = m.server_content
        if m.tool_call:
            kinds.append("call")
        elif m.tool_call_cancellation:
            kinds.append("cancel")
        elif sc and sc.interrupted:
            kinds.append("interrupted")
        elif sc and sc.turn_complete:
            kinds.append("turnComplete")
        elif m.text and (not kinds or kinds[-1] != "text"):
            kinds.append("text")
    return kinds


async def test_a_non_blocking_call_runs_while_the_model_goes_on() -> None:
    """The turn completes without waiting (the model says the call started); the result,
    scheduled WHEN_IDLE, gets a reply of its own once the session is idle."""
    config = ServerConfig(port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0)
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        async with client.aio.live.connect(model="gemini-x", config=BACKGROUND) as session:
            await session.send_client_content(turns='[[call turn_on_the_lights {"room": "hall"}]]')
            first = [m async for m in session.receive()]
            assert _kinds(first) == ["call", "text", "turnComplete"]
            assert "".join(m.text or "" for m in first) == STARTED  # no second call
            (call,) = _calls(first)
            assert call.args == {"room": "hall"}
            await session.send_tool_response(
                [
                    {
                        "id": call.id,
                        "name": call.name,
                        "response": {"result": "on"},
                        "scheduling": "WHEN_IDLE",
                    }
                ]
            )
            text = "".join([m.text or "" async for m in session.receive()])
    assert text == 'echo: turn_on_the_lights returned {"result": "on"}'


async def test_an_interrupt_result_cuts_the_reply_and_a_background_call_times_out() -> None:
    config = ServerConfig(
        port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0, tool_timeout=2
    )
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        async with client.aio.live.connect(model="gemini-x", config=BACKGROUND) as session:
            await session.send_client_content(
                turns='[[call turn_on_the_lights {"room": "a"}]] [[call turn_on_the_lights '
                '{"room": "b"}]]'
            )
            first = [m async for m in session.receive()]
            a, b = _calls(first)
            await session.send_client_content(turns="[[slow]] tell me a story")
            async for message in session.stream():
                if message.text:  # the slow reply has begun: the result cuts it
                    break
            await session.send_tool_response(
                [{"id": a.id, "response": {"result": "on"}, "scheduling": "INTERRUPT"}]
            )
            cut = [m async for m in session.receive()]
            answer = [m async for m in session.receive()]
            seen = [m.tool_call_cancellation for m in cut + answer if m.tool_call_cancellation]
            timed_out = seen[0] if seen else None
            if timed_out is None:  # b gave no result in time
                async for message in session.stream():
                    if message.tool_call_cancellation:
                        timed_out = message.tool_call_cancellation
                        break
    assert _kinds(cut)[-2:] == ["interrupted", "turnComplete"]
    assert "".join(m.text or "" for m in answer) == (
        'echo: turn_on_the_lights returned {"result": "on"}'
    )
    assert timed_out is not None and timed_out.ids == [b.id]


@pytest.mark.parametrize(
    ("tools", "reason"),
    [
        ([{"codeExecution": {}}], "codeExecution is a Google-hosted tool"),
        (
            [{"functionDeclarations": [{"name": "f", "behavior": "SOMETIMES"}]}],
            "function f: behavior SOMETIMES is not one of BLOCKING (the default), NON_BLOCKING",
        ),
    ],
)
async def test_tools_openlive_cannot_run_close_1007(tools: list[object], reason: str) -> None:
    config = ServerConfig(port=0, tls_port=0, no_tls=True, model="echo")
    async with running_app(config) as server, connect(server.ws + PATH) as ws:
        setup = {"model": "models/gemini-x", "tools": tools}
        await ws.send(json.dumps({"setup": setup}))
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        rcvd = info.value.rcvd
        assert rcvd is not None and rcvd.code == 1007 and reason in rcvd.reason


@pytest.mark.model
async def test_a_spoken_reply_waits_for_the_tool_and_speaks_its_result() -> None:
    config = ServerConfig(port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0)
    voice = {
        "response_modalities": ["AUDIO"],
        "output_audio_transcription": {},
        "tools": [{"function_declarations": [LIGHTS]}],
    }
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        async with client.aio.live.connect(model="gemini-x", config=voice) as session:
            await session.send_realtime_input(text='[[call turn_on_the_lights {"room": "hall"}]]')
            call = None
            async for message in session.stream():
                if message.tool_call:
                    call = message.tool_call.function_calls[0]
                    break
            assert call is not None and call.args == {"room": "hall"}
            await session.send_tool_response(
                [{"id": call.id, "name": call.name, "response": {"result": "on"}}]
            )
            heard, audio = "", 0
            async for message in session.receive():
                sc = message.server_content
                if sc and sc.output_transcription:
                    heard += sc.output_transcription.text or ""
                if message.data:
                    audio += len(message.data)
    assert heard == 'echo: turn on the lights returned {"result": "on"}'  # spaces kept
    assert audio > 24000  # more than half a second of speech
