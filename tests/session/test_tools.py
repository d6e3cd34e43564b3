"""Function declarations and the BLOCKING function-call flow in the core (no models)."""

from __future__ import annotations

from typing import Any

import pytest

from openlive.errors import InvalidArgument
from openlive.session import (
    Close,
    FunctionCallPart,
    FunctionCalls,
    FunctionResponsePart,
    GenerationDone,
    LiveSession,
    Send,
    StartGeneration,
    TextDelta,
    ToolTimeout,
    WatchToolCalls,
)
from openlive.session.tools import check_arguments, declared_tools
from openlive.types import ClientMessage, Setup, Tool

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING", "description": "City name"},
            "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"], "nullable": True},
        },
        "required": ["city"],
    },
}
LIGHTS = {"name": "turn_on_the_lights", "parametersJsonSchema": {"type": "object"}}


def tools(*declarations: dict[str, Any]) -> list[Tool]:
    return [Tool.model_validate({"functionDeclarations": list(declarations)})]


def session(**extra: Any) -> LiveSession:
    data = {
        "model": "x",
        "generationConfig": {"responseModalities": ["TEXT"]},
        "tools": [{"functionDeclarations": [WEATHER, LIGHTS]}],
        **extra,
    }
    s = LiveSession.create("sess-123456789", "x", Setup.model_validate(data), 0.0)
    s.start()
    return s


def msg(data: dict[str, Any]) -> ClientMessage:
    return ClientMessage.model_validate(data)


def wire(actions: list[Any]) -> list[dict[str, Any]]:
    return [a.message.to_wire() for a in actions if isinstance(a, Send)]


def ask(s: LiveSession, text: str) -> int:
    turn = {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": True}
    (start,) = [
        a
        for a in s.receive_client(msg({"clientContent": turn}), 1)
        if isinstance(a, StartGeneration)
    ]
    return start.request.turn_id


def test_declarations_become_json_schema() -> None:
    (weather, lights) = declared_tools(tools(WEATHER, LIGHTS))
    assert weather.parameters == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit", None]},
        },
        "required": ["city"],
    }
    assert lights.name == "turn_on_the_lights" and lights.parameters == {"type": "object"}


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        ({"name": "1bad"}, "function name '1bad' is not valid"),
        ({"name": "f", "parameters": {"type": "STRING"}}, "function f: parameters must have type"),
        (
            {"name": "f", "parameters": {"type": "OBJECT", "properties": {"a": {"type": "WORD"}}}},
            "function f: parameters.a: type WORD",
        ),
        (
            {"name": "f", "parameters": {"type": "OBJECT", "required": ["a"]}},
            "required names unknown properties",
        ),
        ({"name": "f", "behavior": "NON_BLOCKING"}, "NON_BLOCKING is not supported"),
    ],
)
def test_bad_declarations_name_the_function_and_the_problem(
    declaration: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidArgument) as info:
        declared_tools(tools(declaration))
    assert reason in info.value.reason


def test_google_hosted_tools_and_duplicates_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="googleSearch is a Google-hosted tool"):
        declared_tools([Tool.model_validate({"googleSearch": {}})])
    with pytest.raises(InvalidArgument, match="declared twice"):
        declared_tools(tools(LIGHTS, LIGHTS))
    bad = Setup.model_validate({"model": "x", "tools": [{"codeExecution": {}}]})
    with pytest.raises(InvalidArgument, match="codeExecution"):
        LiveSession.create("s", "x", bad, 0.0)


def test_arguments_are_checked_against_the_schema() -> None:
    (weather,) = declared_tools(tools(WEATHER))
    assert check_arguments(weather.parameters, {"city": "Tokyo"}) is None
    assert check_arguments(weather.parameters, {"city": "Tokyo", "unit": None}) is None
    assert check_arguments(weather.parameters, {}) == "args.city is required"
    assert check_arguments(weather.parameters, {"city": 3}) == "args.city should be string, not int"
    assert "one of" in (check_arguments(weather.parameters, {"city": "x", "unit": "kelvin"}) or "")


def test_a_blocking_call_pauses_the_turn_until_answered() -> None:
    s = session()
    turn = ask(s, "Weather in Tokyo?")
    call = FunctionCallPart("get_weather", {"city": "Tokyo"})
    out = s.receive_engine(
        FunctionCalls(turn, (call, FunctionCallPart("turn_on_the_lights", {}))), 2
    )
    (tool_call,) = wire(out)
    calls = tool_call["toolCall"]["functionCalls"]
    assert [c["name"] for c in calls] == ["get_weather", "turn_on_the_lights"]
    ids = [c["id"] for c in calls]
    assert len(set(ids)) == 2 and all(i.startswith("call-sess-123-") for i in ids)
    assert WatchToolCalls(turn, tuple(ids)) in out
    assert s.receive_engine(GenerationDone(turn, 10, 0), 3) == []  # no turnComplete: waiting
    first = {"id": ids[0], "name": "get_weather", "response": {"output": "sunny, 22 C"}}
    assert s.receive_client(msg({"toolResponse": {"functionResponses": [first]}}), 4) == []
    second = {"id": ids[1], "response": {"output": "ok"}}
    (resume,) = s.receive_client(msg({"toolResponse": {"functionResponses": [second]}}), 5)
    assert isinstance(resume, StartGeneration) and resume.request.turn_id == turn
    last = resume.request.messages[-2:]
    assert [type(p).__name__ for m in last for p in m.parts] == [
        "FunctionResponsePart",
        "FunctionResponsePart",
    ]
    assert isinstance(last[0].parts[0], FunctionResponsePart)
    assert last[0].parts[0].response == {"output": "sunny, 22 C"}
    s.receive_engine(TextDelta(turn, "Sunny in Tokyo."), 6)
    done = wire(s.receive_engine(GenerationDone(turn, 20, 4), 7))
    assert done[-1]["serverContent"] == {"turnComplete": True}
    assert done[-1]["usageMetadata"]["promptTokenCount"] == 30  # both rounds counted


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ({"name": "get_weather", "response": {}}, "has no id"),
        ({"id": "call-nope", "response": {}}, "matches no pending call"),
        (
            {"id": "{id}", "name": "turn_on_the_lights", "response": {}},
            "that call was to get_weather",
        ),
        ({"id": "{id}", "response": {}, "willContinue": True}, "willContinue"),
    ],
)
def test_bad_tool_responses_close_1007(response: dict[str, Any], reason: str) -> None:
    s = session()
    turn = ask(s, "weather")
    out = s.receive_engine(
        FunctionCalls(turn, (FunctionCallPart("get_weather", {"city": "Oslo"}),)), 2
    )
    call_id = wire(out)[0]["toolCall"]["functionCalls"][0]["id"]
    if response.get("id") == "{id}":
        response = {**response, "id": call_id}
    actions = s.receive_client(msg({"toolResponse": {"functionResponses": [response]}}), 3)
    assert isinstance(actions[-1], Close) and actions[-1].code == 1007
    assert reason in actions[-1].reason


def test_invented_names_and_bad_arguments_are_never_sent() -> None:
    s = session()
    turn = ask(s, "weather")
    calls = (FunctionCallPart("launch_rockets", {}), FunctionCallPart("get_weather", {"city": 7}))
    assert wire(s.receive_engine(FunctionCalls(turn, calls), 2)) == []
    done = wire(s.receive_engine(GenerationDone(turn, 5, 0), 3))
    assert done[-1]["serverContent"] == {"turnComplete": True}  # nothing owed: the turn ends


def test_interruption_cancels_outstanding_calls() -> None:
    s = session()
    turn = ask(s, "weather")
    out = s.receive_engine(
        FunctionCalls(turn, (FunctionCallPart("get_weather", {"city": "Oslo"}),)), 2
    )
    call_id = wire(out)[0]["toolCall"]["functionCalls"][0]["id"]
    actions = wire(s.receive_client(msg({"realtimeInput": {"text": "never mind"}}), 3))
    assert actions[:3] == [
        {"toolCallCancellation": {"ids": [call_id]}},
        {"serverContent": {"interrupted": True}},
        {"serverContent": {"turnComplete": True}},
    ]
    late = {"id": call_id, "response": {"output": "rain"}}
    closing = s.receive_client(msg({"toolResponse": {"functionResponses": [late]}}), 4)
    assert isinstance(closing[-1], Close) and "no tool call is pending" in closing[-1].reason


def test_a_call_that_times_out_is_cancelled_and_the_turn_goes_on() -> None:
    s = session()
    turn = ask(s, "weather")
    out = s.receive_engine(
        FunctionCalls(turn, (FunctionCallPart("get_weather", {"city": "Oslo"}),)), 2
    )
    call_id = wire(out)[0]["toolCall"]["functionCalls"][0]["id"]
    actions = s.receive_engine(ToolTimeout(turn, (call_id,)), 62)
    assert wire(actions) == [{"toolCallCancellation": {"ids": [call_id]}}]
    (resume,) = [a for a in actions if isinstance(a, StartGeneration)]
    (answer,) = resume.request.messages[-1].parts
    assert isinstance(answer, FunctionResponsePart) and "error" in answer.response
    assert s.receive_engine(ToolTimeout(turn, (call_id,)), 63) == []  # once


def test_tool_config_and_context_update() -> None:
    none = session(toolConfig={"functionCallingConfig": {"mode": "NONE"}})
    turn_request = next(
        a
        for a in none.receive_client(msg({"realtimeInput": {"text": "hi"}}), 1)
        if isinstance(a, StartGeneration)
    ).request
    assert turn_request.tools == ()
    only = session(
        toolConfig={
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
        }
    )
    request = next(
        a
        for a in only.receive_client(msg({"realtimeInput": {"text": "hi"}}), 1)
        if isinstance(a, StartGeneration)
    ).request
    assert [t.name for t in request.tools] == ["get_weather"] and request.tool_mode == "ANY"
    s = session()
    s.receive_client(msg({"contextUpdate": {"tools": [{"functionDeclarations": [LIGHTS]}]}}), 1)
    assert [t.name for t in s._tools()[0]] == ["turn_on_the_lights"]
    bad = s.receive_client(msg({"contextUpdate": {"tools": [{"googleSearch": {}}]}}), 2)
    assert isinstance(bad[-1], Close) and bad[-1].code == 1007


def test_snapshot_with_calls_pending_rewatches_them() -> None:
    s = session()
    turn = ask(s, "weather")
    s.receive_engine(FunctionCalls(turn, (FunctionCallPart("get_weather", {"city": "Oslo"}),)), 2)
    s.receive_engine(GenerationDone(turn, 5, 0), 3)
    restored = LiveSession.from_json(s.to_json())
    (watch,) = restored.resume(4)
    assert isinstance(watch, WatchToolCalls) and watch.ids == tuple(s.state.turn.calls)  # type: ignore[union-attr]


class _Runtime:
    """Does what a runtime would with the core's actions: the engine answers each generation
    with text or a call (chosen at random), the tool timer fires for every watched call."""

    def __init__(self, rng: Any) -> None:
        self.rng = rng
        self.pending: list[Any] = []
        self.ids: list[str] = []

    def perform(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, StartGeneration):
                turn = action.request.turn_id
                if self.rng.random() < 0.5:
                    call = FunctionCallPart("get_weather", {"city": self.rng.choice("AB")})
                    self.pending += [FunctionCalls(turn, (call,)), GenerationDone(turn, 1, 0)]
                else:
                    self.pending += [TextDelta(turn, "ok"), GenerationDone(turn, 1, 1)]
            elif isinstance(action, WatchToolCalls):
                self.pending.append(ToolTimeout(action.turn_id, action.ids))
                self.ids.extend(action.ids)


def test_no_ordering_of_client_messages_leaves_a_session_waiting() -> None:
    """Randomized: client messages (text, tool answers right or wrong, interruptions) arrive
    in any order among the engine's events; once the engine and the tool timer have done what
    they were asked, every session has completed its turn or closed."""
    import random

    text = {"realtimeInput": {"text": "hello"}}
    content = {"clientContent": {"turns": [{"parts": [{"text": "x"}]}], "turnComplete": True}}
    for seed in range(300):
        rng = random.Random(seed)
        s, runtime, now = session(), _Runtime(rng), 0.0
        for _ in range(rng.randint(1, 12)):
            now += 1
            choice = rng.random()
            if choice < 0.3 and runtime.pending:
                runtime.perform(s.receive_engine(runtime.pending.pop(0), now))
            elif choice < 0.55:
                runtime.perform(s.receive_client(msg(text), now))
            elif choice < 0.85 and runtime.ids:
                call_id = rng.choice([*runtime.ids, "call-wrong"])
                answer = {"toolResponse": {"functionResponses": [{"id": call_id, "response": {}}]}}
                runtime.perform(s.receive_client(msg(answer), now))
            else:
                runtime.perform(s.receive_client(msg(content), now))
        while runtime.pending and not s.state.closed:  # the engine and timers finish
            now += 1
            runtime.perform(s.receive_engine(runtime.pending.pop(0), now))
        assert s.state.closed or s.state.turn is None, f"seed {seed}: a turn is left waiting"
