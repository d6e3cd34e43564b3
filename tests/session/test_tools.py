"""Function declarations and the function-call flows in the core (no models): BLOCKING calls,
and NON_BLOCKING calls with their scheduling, willContinue, cancellation and timeouts."""

from __future__ import annotations

from typing import Any

import pytest

from openlive.errors import InvalidArgument
from openlive.session import (
    BackgroundCall,
    CancelGeneration,
    Close,
    FinishSpeech,
    FunctionCallPart,
    FunctionCalls,
    FunctionResponsePart,
    GenerationDone,
    LiveSession,
    Note,
    Send,
    SessionState,
    SpeechFinished,
    StartGeneration,
    TextDelta,
    ToolTimeout,
    WatchToolCalls,
)
from openlive.session.calling import MAX_ROUNDS, STARTED
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
FLIGHTS = {  # NON_BLOCKING (the behavior's case does not matter)
    "name": "find_flights",
    "behavior": "non_blocking",
    "parameters": {"type": "OBJECT", "properties": {"to": {"type": "STRING"}}},
}


def tools(*declarations: dict[str, Any]) -> list[Tool]:
    return [Tool.model_validate({"functionDeclarations": list(declarations)})]


def session(**extra: Any) -> LiveSession:
    data = {
        "model": "x",
        "generationConfig": {"responseModalities": ["TEXT"]},
        "tools": [{"functionDeclarations": [WEATHER, LIGHTS, FLIGHTS]}],
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
        (
            {"name": "f", "behavior": "SOMETIMES"},
            "function f: behavior SOMETIMES is not one of BLOCKING (the default), NON_BLOCKING",
        ),
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
        (
            {"id": "{id}", "response": {}, "willContinue": True},
            "willContinue is only for NON_BLOCKING functions; get_weather is BLOCKING",
        ),
        (
            {"id": "{id}", "response": {}, "scheduling": "SOON"},
            "scheduling SOON is not one of INTERRUPT, WHEN_IDLE (the default), SILENT",
        ),
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


# ---- NON_BLOCKING calls ----


def respond(s: LiveSession, now: float, *responses: dict[str, Any]) -> list[Any]:
    return s.receive_client(msg({"toolResponse": {"functionResponses": list(responses)}}), now)


def reply(s: LiveSession, turn: int, text: str, now: float) -> list[Any]:
    """The engine writes ``text`` and ends its round."""
    return s.receive_engine(TextDelta(turn, text), now) + s.receive_engine(
        GenerationDone(turn, 1, 1), now
    )


def start_background(s: LiveSession, now: float = 1) -> tuple[int, str]:
    """A turn whose model calls find_flights (NON_BLOCKING), says something and ends."""
    turn = ask(s, "find me a flight")
    out = s.receive_engine(FunctionCalls(turn, (FunctionCallPart("find_flights", {}),)), now)
    call_id: str = wire(out)[0]["toolCall"]["functionCalls"][0]["id"]
    (cont,) = s.receive_engine(GenerationDone(turn, 1, 0), now)
    assert isinstance(cont, StartGeneration)
    reply(s, turn, "Looking.", now)
    if s.speaks:
        s.receive_engine(SpeechFinished(turn), now)
    assert s.state.turn is None
    return turn, call_id


def starts(actions: list[Any]) -> list[StartGeneration]:
    return [a for a in actions if isinstance(a, StartGeneration)]


def test_declared_behaviors() -> None:
    specs = declared_tools(
        tools(
            {"name": "a"},
            {"name": "b", "behavior": "BLOCKING"},
            {"name": "c", "behavior": "UNSPECIFIED"},
            {"name": "d", "behavior": "NON_BLOCKING"},
            {"name": "e", "behavior": "non_blocking"},
        )
    )
    assert [t.blocking for t in specs] == [True, True, True, False, False]


def test_a_non_blocking_call_lets_the_turn_go_on_and_complete() -> None:
    s = session()
    turn = ask(s, "find me a flight to Oslo")
    out = s.receive_engine(
        FunctionCalls(turn, (FunctionCallPart("find_flights", {"to": "Oslo"}),)), 2
    )
    (tool_call,) = wire(out)
    (call,) = tool_call["toolCall"]["functionCalls"]
    assert call["name"] == "find_flights" and call["args"] == {"to": "Oslo"}
    assert WatchToolCalls(turn, (call["id"],)) in out
    assert s.state.background == {call["id"]: BackgroundCall(name="find_flights", turn_id=turn)}
    assert s.state.turn is not None and s.state.turn.calls == {}
    # the round ends: the turn goes on at once with another round that sees the placeholder
    (cont,) = s.receive_engine(GenerationDone(turn, 5, 0), 3)
    assert isinstance(cont, StartGeneration) and cont.request.turn_id == turn
    called, started = cont.request.messages[-2:]
    assert called.role == "assistant" and isinstance(called.parts[0], FunctionCallPart)
    (placeholder,) = started.parts
    assert placeholder == FunctionResponsePart("find_flights", STARTED, call["id"])
    done = wire(reply(s, turn, "I'm looking for flights.", 4))
    assert done[-2:] == [
        {"serverContent": {"generationComplete": True}},
        {"serverContent": {"turnComplete": True}, "usageMetadata": done[-1]["usageMetadata"]},
    ]
    assert done[-1]["usageMetadata"]["promptTokenCount"] == 6  # both rounds counted
    assert s.state.turn is None and call["id"] in s.state.background  # still running


def test_a_repeated_call_is_not_sent_and_the_model_answers_in_words() -> None:
    """A small model given a result may ask for it again: the same call (name and
    arguments) is not sent twice in a turn; the next round is offered no functions."""
    s = session()
    turn = ask(s, "Weather in Tokyo?")
    call = FunctionCallPart("get_weather", {"city": "Tokyo"})
    (tool_call,) = wire(s.receive_engine(FunctionCalls(turn, (call,)), 2))
    s.receive_engine(GenerationDone(turn, 1, 0), 3)
    call_id = tool_call["toolCall"]["functionCalls"][0]["id"]
    (again,) = respond(s, 4, {"id": call_id, "response": {"output": "sunny"}})
    assert isinstance(again, StartGeneration) and again.request.tools
    out = s.receive_engine(FunctionCalls(turn, (call,)), 5)
    assert wire(out) == [] and any("repeated call" in getattr(a, "message", "") for a in out)
    (words,) = s.receive_engine(GenerationDone(turn, 1, 0), 6)
    assert isinstance(words, StartGeneration)
    assert words.request.tools == () and words.request.tool_mode == "NONE"
    done = wire(reply(s, turn, "Sunny in Tokyo.", 7))
    assert done[-1]["serverContent"] == {"turnComplete": True}


def test_blocking_and_non_blocking_calls_in_one_round() -> None:
    s = session()
    turn = ask(s, "weather and flights")
    calls = (
        FunctionCallPart("get_weather", {"city": "Oslo"}),
        FunctionCallPart("find_flights", {}),
    )
    out = s.receive_engine(FunctionCalls(turn, calls), 2)
    (tool_call,) = wire(out)
    weather_id, flights_id = (c["id"] for c in tool_call["toolCall"]["functionCalls"])
    assert WatchToolCalls(turn, (weather_id, flights_id)) in out
    assert s.receive_engine(GenerationDone(turn, 1, 0), 3) == []  # the BLOCKING call is owed
    (cont,) = respond(s, 4, {"id": weather_id, "response": {"output": "rain"}})
    assert isinstance(cont, StartGeneration)
    done = wire(reply(s, turn, "Rain; looking for flights.", 5))
    assert done[-1]["serverContent"] == {"turnComplete": True}  # no extra round
    assert list(s.state.background) == [flights_id]


@pytest.mark.parametrize("scheduling", [None, "WHEN_IDLE", "when_idle", "SCHEDULING_UNSPECIFIED"])
def test_a_when_idle_result_with_no_turn_gets_a_reply(scheduling: str | None) -> None:
    s = session()
    _, call_id = start_background(s)
    result = {"id": call_id, "name": "find_flights", "response": {"output": "3 flights"}}
    if scheduling is not None:
        result["scheduling"] = scheduling
    (start,) = respond(s, 5, result)
    assert isinstance(start, StartGeneration)
    (answer,) = start.request.messages[-1].parts
    assert answer == FunctionResponsePart("find_flights", {"output": "3 flights"}, call_id)
    assert s.state.background == {}
    done = wire(reply(s, start.request.turn_id, "Found 3 flights.", 6))
    assert done[-1]["serverContent"] == {"turnComplete": True}


def test_a_when_idle_result_during_a_turn_waits_for_it_to_end() -> None:
    s = session()
    _, call_id = start_background(s)
    turn = ask(s, "and the weather?")
    s.receive_engine(TextDelta(turn, "It is"), 3)
    assert respond(s, 4, {"id": call_id, "response": {"output": "3 flights"}}) == []
    assert len(s.state.deferred) == 1
    out = s.receive_engine(TextDelta(turn, " sunny."), 5) + s.receive_engine(
        GenerationDone(turn, 1, 1), 6
    )
    assert [m.get("serverContent") for m in wire(out)][-2:] == [
        {"generationComplete": True},
        {"turnComplete": True},
    ]
    (start,) = starts(out)  # after turnComplete, a reply to the result
    assert out.index(start) > max(i for i, a in enumerate(out) if isinstance(a, Send))
    said, result = start.request.messages[-2:]
    assert said.text == "It is sunny."  # the turn's text first, then the result
    assert result.parts == (FunctionResponsePart("find_flights", {"output": "3 flights"}, call_id),)
    assert s.state.deferred == []


def test_a_when_idle_result_waits_for_the_spoken_reply_to_finish() -> None:
    s = session(generationConfig={"responseModalities": ["AUDIO"]})
    _, call_id = start_background(s)
    turn = ask(s, "and the weather?")
    assert respond(s, 3, {"id": call_id, "response": {"output": "3 flights"}}) == []
    out = reply(s, turn, "Sunny.", 4)
    assert FinishSpeech(turn) in out and starts(out) == []  # still speaking
    done = s.receive_engine(SpeechFinished(turn), 5)
    assert wire(done)[-1]["serverContent"] == {"turnComplete": True}
    (start,) = starts(done)
    assert isinstance(start.request.messages[-1].parts[0], FunctionResponsePart)


def test_a_silent_result_only_joins_the_history() -> None:
    s = session()
    _, call_id = start_background(s)
    assert respond(s, 3, {"id": call_id, "response": {"output": "x"}, "scheduling": "SILENT"}) == []
    assert s.state.turn is None and s.state.background == {}
    last = s.state.history[-1]
    assert last.role == "user" and last.parts[0].function_response is not None
    # during a turn: added after it, with no reply of its own
    _, second = start_background(s)
    turn = ask(s, "hello")
    assert respond(s, 4, {"id": second, "response": {}, "scheduling": "SILENT"}) == []
    out = reply(s, turn, "Hi.", 5)
    assert wire(out)[-1]["serverContent"] == {"turnComplete": True} and starts(out) == []
    fr = s.state.history[-1].parts[0].function_response
    assert fr is not None and fr.id == second and s.state.deferred == []


def test_an_interrupt_result_stops_the_turn_and_is_answered_now() -> None:
    s = session()
    _, call_id = start_background(s)
    turn = ask(s, "tell me a story")
    s.receive_engine(TextDelta(turn, "Once upon"), 3)
    out = respond(s, 4, {"id": call_id, "response": {"output": "3"}, "scheduling": "INTERRUPT"})
    assert wire(out) == [
        {"serverContent": {"interrupted": True}},
        {"serverContent": {"turnComplete": True}},
    ]
    assert CancelGeneration(turn) in out
    (start,) = starts(out)
    assert start.request.turn_id != turn
    said, result = start.request.messages[-2:]
    assert said.text == "Once upon"  # what was sent stays
    assert result.parts == (FunctionResponsePart("find_flights", {"output": "3"}, call_id),)


def test_an_interrupt_result_does_not_cancel_its_own_call() -> None:
    s = session()
    turn = ask(s, "find me a flight")
    out = s.receive_engine(FunctionCalls(turn, (FunctionCallPart("find_flights", {}),)), 2)
    call_id = wire(out)[0]["toolCall"]["functionCalls"][0]["id"]
    s.receive_engine(GenerationDone(turn, 1, 0), 3)  # the turn goes on
    s.receive_engine(TextDelta(turn, "Looking"), 4)
    more = {"id": call_id, "response": {"n": 1}, "scheduling": "INTERRUPT", "willContinue": True}
    out = respond(s, 5, more)
    assert "toolCallCancellation" not in str(wire(out))  # the call made by this turn goes on
    assert WatchToolCalls(turn, (call_id,), 1) in out and len(starts(out)) == 1
    assert call_id in s.state.background
    # the reply to the result is interrupted by the call's last result: nothing to cancel
    last = {"id": call_id, "response": {"n": 2}, "scheduling": "INTERRUPT"}
    out = respond(s, 6, last)
    assert wire(out) == [
        {"serverContent": {"interrupted": True}},
        {"serverContent": {"turnComplete": True}},
    ]
    assert len(starts(out)) == 1 and s.state.background == {}


def test_will_continue_keeps_the_call_running_until_the_last_result() -> None:
    s = session()
    turn, call_id = start_background(s)
    first = respond(s, 3, {"id": call_id, "response": {"progress": 1}, "willContinue": True})
    assert WatchToolCalls(turn, (call_id,), 1) in first and len(starts(first)) == 1
    reply(s, starts(first)[0].request.turn_id, "Halfway.", 4)
    second = {"id": call_id, "response": {"progress": 2}, "willContinue": True}
    second["scheduling"] = "SILENT"
    assert respond(s, 5, second) == [WatchToolCalls(turn, (call_id,), 2)]
    assert s.state.background[call_id].watch == 2
    assert s.receive_engine(ToolTimeout(turn, (call_id,), 1), 6) == []  # an older timer
    final = respond(s, 7, {"id": call_id, "response": {"done": True}, "willContinue": False})
    (start,) = final
    assert isinstance(start, StartGeneration) and s.state.background == {}
    assert s.receive_engine(ToolTimeout(turn, (call_id,), 2), 8) == []  # ended: nothing to do
    results = [
        p.function_response.response
        for c in s.state.history
        for p in c.parts
        if p.function_response is not None and p.function_response.id == call_id
    ]
    assert results == [STARTED, {"progress": 1}, {"progress": 2}, {"done": True}]


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ({"id": "call-nope", "response": {}}, "matches no pending call (pending: {w}, {f})"),
        ({"id": "{f}", "name": "get_weather", "response": {}}, "that call was to find_flights"),
        ({"id": "{w}", "response": {}, "willContinue": True}, "get_weather is BLOCKING"),
        ({"id": "{f}", "response": {}, "scheduling": "LATER"}, "scheduling LATER is not one of"),
        ({"response": {}}, "has no id"),
    ],
)
def test_bad_results_for_non_blocking_calls_close_1007(
    response: dict[str, Any], reason: str
) -> None:
    s = session()
    turn = ask(s, "weather and flights")
    calls = (
        FunctionCallPart("get_weather", {"city": "Oslo"}),
        FunctionCallPart("find_flights", {}),
    )
    out = s.receive_engine(FunctionCalls(turn, calls), 2)
    w, f = (c["id"] for c in wire(out)[0]["toolCall"]["functionCalls"])
    if "id" in response:
        response = {**response, "id": response["id"].format(w=w, f=f)}
    actions = respond(s, 3, response)
    assert isinstance(actions[-1], Close) and actions[-1].code == 1007
    assert reason.format(w=w, f=f) in actions[-1].reason


def test_a_result_after_the_last_one_closes_1007() -> None:
    s = session()
    _, call_id = start_background(s)
    actions = respond(s, 3, {"id": call_id, "response": {}}, {"id": call_id, "response": {}})
    assert isinstance(actions[-1], Close) and "matches no pending call" in actions[-1].reason
    s = session()
    _, call_id = start_background(s)
    respond(s, 3, {"id": call_id, "response": {}, "scheduling": "SILENT"})
    late = respond(s, 4, {"id": call_id, "response": {}})
    assert isinstance(late[-1], Close) and "no tool call is pending" in late[-1].reason


def test_interruption_cancels_the_interrupted_turns_calls_only() -> None:
    s = session()
    _, older = start_background(s)
    turn = ask(s, "weather and flights")
    calls = (
        FunctionCallPart("get_weather", {"city": "Oslo"}),
        FunctionCallPart("find_flights", {}),
    )
    out = s.receive_engine(FunctionCalls(turn, calls), 2)
    w, f = (c["id"] for c in wire(out)[0]["toolCall"]["functionCalls"])
    actions = wire(s.receive_client(msg({"realtimeInput": {"text": "never mind"}}), 3))
    assert actions[:3] == [
        {"toolCallCancellation": {"ids": [w, f]}},  # one message for both kinds
        {"serverContent": {"interrupted": True}},
        {"serverContent": {"turnComplete": True}},
    ]
    assert list(s.state.background) == [older]  # a call of an earlier turn keeps running
    cancelled = [p.function_response for p in s.state.history[-2].parts]
    assert [(r.id, r.response) for r in cancelled if r is not None] == [
        (w, {"error": "cancelled: the user interrupted"}),
        (f, {"error": "cancelled: the user interrupted"}),
    ]
    out = respond(s, 4, {"id": older, "response": {"output": "ok"}, "scheduling": "INTERRUPT"})
    assert "toolCallCancellation" not in str(wire(out)) and len(starts(out)) == 1


def test_an_interrupted_turn_adds_the_waiting_results_without_a_reply() -> None:
    s = session()
    _, call_id = start_background(s)
    turn = ask(s, "story")
    s.receive_engine(TextDelta(turn, "Once"), 2)
    respond(s, 3, {"id": call_id, "response": {"output": "x"}})
    out = s.receive_client(msg({"realtimeInput": {"text": "stop"}}), 4)
    (start,) = starts(out)  # the reply to "stop" only
    assert start.request.messages[-1].text == "stop"
    assert any(isinstance(p, FunctionResponsePart) for p in start.request.messages[-2].parts)
    assert s.state.deferred == []


def test_a_background_call_that_times_out_is_cancelled_without_a_reply() -> None:
    s = session()
    turn, call_id = start_background(s)
    out = s.receive_engine(ToolTimeout(turn, (call_id,), 0), 61)
    assert wire(out) == [{"toolCallCancellation": {"ids": [call_id]}}] and starts(out) == []
    fr = s.state.history[-1].parts[0].function_response
    assert fr is not None and fr.id == call_id and "error" in (fr.response or {})
    assert s.state.background == {}
    assert s.receive_engine(ToolTimeout(turn, (call_id,), 0), 62) == []  # once
    late = respond(s, 63, {"id": call_id, "response": {}})
    assert isinstance(late[-1], Close) and late[-1].code == 1007


def test_a_stale_timer_is_ignored_and_a_timeout_during_a_turn_waits_for_it() -> None:
    s = session()
    turn, call_id = start_background(s)
    respond(s, 3, {"id": call_id, "response": {}, "willContinue": True, "scheduling": "SILENT"})
    assert s.receive_engine(ToolTimeout(turn, (call_id,), 0), 61) == []  # re-armed since
    second = ask(s, "hello")
    out = s.receive_engine(ToolTimeout(turn, (call_id,), 1), 64)
    assert wire(out) == [{"toolCallCancellation": {"ids": [call_id]}}] and starts(out) == []
    assert len(s.state.deferred) == 1 and s.state.background == {}
    done = reply(s, second, "Hi.", 65)
    assert wire(done)[-1]["serverContent"] == {"turnComplete": True} and starts(done) == []
    fr = s.state.history[-1].parts[0].function_response
    assert fr is not None and fr.id == call_id and "error" in (fr.response or {})


def test_one_timer_for_a_round_with_both_kinds_of_call() -> None:
    s = session()
    turn = ask(s, "weather and flights")
    calls = (
        FunctionCallPart("get_weather", {"city": "Oslo"}),
        FunctionCallPart("find_flights", {}),
    )
    out = s.receive_engine(FunctionCalls(turn, calls), 2)
    (watch,) = [a for a in out if isinstance(a, WatchToolCalls)]
    s.receive_engine(GenerationDone(turn, 1, 0), 3)
    timeout = s.receive_engine(ToolTimeout(watch.turn_id, watch.ids, watch.watch), 62)
    assert wire(timeout) == [{"toolCallCancellation": {"ids": list(watch.ids)}}]
    (cont,) = starts(timeout)  # the turn goes on with the BLOCKING call's error
    assert cont.request.turn_id == turn and s.state.background == {}
    done = reply(s, turn, "Sorry.", 63)
    assert wire(done)[-1]["serverContent"] == {"turnComplete": True} and starts(done) == []


def test_a_model_that_starts_calls_in_every_round_is_stopped() -> None:
    s = session()
    turn = ask(s, "flights")
    rounds, out = 0, []
    while not any(isinstance(m.get("serverContent"), dict) for m in wire(out)):
        rounds += 1
        assert rounds <= MAX_ROUNDS
        call = FunctionCallPart("find_flights", {"to": f"city {rounds}"})  # a new call each time
        s.receive_engine(FunctionCalls(turn, (call,)), rounds)
        out = s.receive_engine(GenerationDone(turn, 1, 0), rounds)
    assert rounds == MAX_ROUNDS and any(isinstance(a, Note) for a in out)
    assert wire(out)[-1]["serverContent"] == {"turnComplete": True}
    assert len(s.state.background) == MAX_ROUNDS


def test_snapshot_with_background_calls_and_waiting_results() -> None:
    s = session()
    turn, first = start_background(s)
    respond(s, 3, {"id": first, "response": {}, "willContinue": True, "scheduling": "SILENT"})
    second_turn, second = start_background(s)
    third = ask(s, "hello")
    respond(s, 4, {"id": second, "response": {"output": "y"}, "willContinue": True})
    for data in (s.state.model_dump_json(), s.state.model_dump_json(by_alias=True), s.to_json()):
        state = SessionState.model_validate_json(data)
        assert state == s.state
        restored = LiveSession(state)
        actions = restored.resume(5)
        assert WatchToolCalls(turn, (first,), 1) in actions
        assert WatchToolCalls(second_turn, (second,), 1) in actions
        done = reply(restored, third, "Hi.", 6)  # the waiting result gets its reply
        assert wire(done)[-1]["serverContent"] == {"turnComplete": True}
        assert len(starts(done)) == 1


class _Runtime:
    """Does what a runtime would with the core's actions: the engine answers each generation
    with text, a BLOCKING call, a NON_BLOCKING call or both (chosen at random); every watch
    starts a tool timer."""

    def __init__(self, rng: Any) -> None:
        self.rng = rng
        self.engine: list[Any] = []
        self.timers: list[ToolTimeout] = []
        self.ids: list[str] = []

    def perform(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, StartGeneration):
                turn = action.request.turn_id
                kind = self.rng.choice(["text", "blocking", "background", "both"])
                last = action.request.messages[-1].parts
                if last and isinstance(last[-1], FunctionResponsePart) and self.rng.random() < 0.7:
                    kind = "text"  # after results a model mostly talks
                calls = []
                if kind in ("blocking", "both"):
                    calls.append(FunctionCallPart("get_weather", {"city": self.rng.choice("AB")}))
                if kind in ("background", "both"):
                    calls.append(FunctionCallPart("find_flights", {}))
                if calls:
                    self.engine += [FunctionCalls(turn, tuple(calls)), GenerationDone(turn, 1, 0)]
                else:
                    self.engine += [TextDelta(turn, "ok"), GenerationDone(turn, 1, 1)]
            elif isinstance(action, WatchToolCalls):
                self.timers.append(ToolTimeout(action.turn_id, action.ids, action.watch))
                self.ids.extend(i for i in action.ids if i not in self.ids)


SCHEDULING = [None, "WHEN_IDLE", "SILENT", "INTERRUPT", "SCHEDULING_UNSPECIFIED"]


def test_no_ordering_of_client_messages_leaves_a_session_waiting() -> None:
    """Randomized: client messages (text, results right or wrong, with any scheduling and
    willContinue, interruptions) arrive in any order among the engine's events and the tool
    timers; once the engine and the timers have done what they were asked, every session has
    completed its turn or closed, no result is left waiting and no call is left running."""
    import random

    text = {"realtimeInput": {"text": "hello"}}
    content = {"clientContent": {"turns": [{"parts": [{"text": "x"}]}], "turnComplete": True}}
    for seed in range(800):
        rng = random.Random(seed)
        s, runtime, now = session(), _Runtime(rng), 0.0
        for _ in range(rng.randint(1, 40)):
            now += 1
            choice = rng.random()
            owed = [*s.state.background, *(s.state.turn.calls if s.state.turn else {})]
            if choice < 0.55 and runtime.engine:
                runtime.perform(s.receive_engine(runtime.engine.pop(0), now))
            elif choice < 0.6 and runtime.timers:
                runtime.perform(s.receive_engine(runtime.timers.pop(0), now))
            elif choice < 0.66:
                runtime.perform(s.receive_client(msg(text), now))
            elif choice < 0.96 and runtime.ids:
                # mostly a call still owed; sometimes one already ended, or a made-up id
                if not owed and rng.random() < 0.85:
                    continue
                known = owed if owed and rng.random() < 0.95 else runtime.ids
                wrong = rng.random() < 0.03
                response: dict[str, Any] = {
                    "id": "call-wrong" if wrong else rng.choice(known),
                    "response": {},
                    "scheduling": "SOON" if rng.random() < 0.02 else rng.choice(SCHEDULING),
                }
                if rng.random() < 0.5:
                    response["willContinue"] = rng.random() < 0.8
                answer = {"toolResponse": {"functionResponses": [response]}}
                runtime.perform(s.receive_client(msg(answer), now))
            else:
                runtime.perform(s.receive_client(msg(content), now))
        while (runtime.engine or runtime.timers) and not s.state.closed:  # all done in the end
            now += 1
            event = runtime.engine.pop(0) if runtime.engine else runtime.timers.pop(0)
            runtime.perform(s.receive_engine(event, now))
        assert s.state.closed or s.state.turn is None, f"seed {seed}: a turn is left waiting"
        assert s.state.closed or not s.state.deferred, f"seed {seed}: a result is left waiting"
        assert s.state.closed or not s.state.background, f"seed {seed}: a call is left running"


def test_a_response_may_carry_inline_parts() -> None:
    s = session()
    turn = ask(s, "Show me the chart")
    call = FunctionCallPart("get_weather", {"city": "Oslo"})
    (tool_call,) = wire(s.receive_engine(FunctionCalls(turn, (call,)), 2))
    s.receive_engine(GenerationDone(turn, 1, 0), 3)
    call_id = tool_call["toolCall"]["functionCalls"][0]["id"]
    image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw-_"}}  # URL-safe base64
    (cont,) = respond(s, 4, {"id": call_id, "response": {"output": "chart"}, "parts": [image]})
    last = cont.request.messages[-1]
    assert [type(p).__name__ for p in last.parts] == ["FunctionResponsePart", "InlinePart"]
    assert (
        last.parts[1].mime_type == "image/png" and last.parts[1].data == b"\x89\x50\x4e\x47\x0f\xbf"
    )


def test_a_response_part_that_is_not_inline_data_is_refused() -> None:
    s = session()
    turn = ask(s, "Weather?")
    out = s.receive_engine(
        FunctionCalls(turn, (FunctionCallPart("get_weather", {"city": "x"}),)), 2
    )
    call_id = wire(out)[0]["toolCall"]["functionCalls"][0]["id"]
    bad = respond(s, 3, {"id": call_id, "response": {}, "parts": [{"text": "hi"}]})
    assert isinstance(bad[-1], Close) and bad[-1].code == 1007
    assert "parts[0] must be inlineData" in bad[-1].reason
