"""Context window compression and overflow in the core (no models): sizes from the engine's
counts, the oldest turns dropped whole, calls owed kept, overflow retried or closed."""

from __future__ import annotations

from typing import Any

import pytest

from openlive.errors import ContextOverflow, InvalidArgument
from openlive.session import (
    Close,
    FunctionCallPart,
    FunctionCalls,
    GenerationDone,
    GenerationFailed,
    GenerationRequest,
    LiveSession,
    Note,
    Send,
    StartGeneration,
    TextDelta,
)
from openlive.session.window import compression_limits, cut_points
from openlive.types import ClientMessage, Content, Setup

WINDOW = 400
LIGHTS = {
    "name": "lights",
    "behavior": "NON_BLOCKING",
    "parameters": {"type": "OBJECT", "properties": {"room": {"type": "STRING"}}},
}
DOOR = {"name": "door", "parameters": {"type": "OBJECT", "properties": {}}}


def make(compression: dict[str, Any] | None = None, **extra: Any) -> LiveSession:
    data: dict[str, Any] = {
        "model": "x",
        "generationConfig": {"responseModalities": ["TEXT"]},
        "systemInstruction": {"parts": [{"text": "you are a terse helper"}]},
        **extra,
    }
    if compression is not None:
        data["contextWindowCompression"] = compression
    session = LiveSession.create("sid-window", "x", Setup.model_validate(data), now=0.0)
    session.start()
    return session


def user(text: str) -> ClientMessage:
    return ClientMessage.model_validate(
        {
            "clientContent": {
                "turns": [{"role": "user", "parts": [{"text": text}]}],
                "turnComplete": True,
            }
        }
    )


def words(request: GenerationRequest) -> int:
    """The prompt's size as a word-counting engine (the echo engine) counts it."""
    return sum(len(m.text.split()) for m in request.messages) + len(request.system.split())


def generation(actions: list[Any]) -> GenerationRequest:
    (start,) = [a for a in actions if isinstance(a, StartGeneration)]
    return start.request


def answer(s: LiveSession, request: GenerationRequest, reply: str, now: float) -> list[Any]:
    """The engine writes ``reply`` and reports word counts and its window."""
    out = s.receive_engine(TextDelta(request.turn_id, reply), now)
    done = GenerationDone(
        request.turn_id, words(request), len(reply.split()), context_window=WINDOW
    )
    return out + s.receive_engine(done, now)


def usage(actions: list[Any]) -> dict[str, Any]:
    for a in actions:
        if isinstance(a, Send) and a.message.usage_metadata is not None:
            return a.message.usage_metadata.to_wire()
    raise AssertionError("no usageMetadata")


def turn(s: LiveSession, text: str, now: float) -> tuple[GenerationRequest, list[Any]]:
    request = generation(s.receive_client(user(text), now))
    return request, answer(s, request, f"noted {text.split()[0]} and more words here", now)


def user_texts(s: LiveSession) -> list[str]:
    return [c.parts[0].text or "" for c in s.state.history if c.role == "user" and c.parts[0].text]


def no_orphans(history: list[Content]) -> None:
    """Every function response in the history follows its call."""
    seen: set[str] = set()
    for content in history:
        for part in content.parts:
            if part.function_call is not None:
                seen.add(part.function_call.id or "")
            if part.function_response is not None:
                assert part.function_response.id in seen, part.function_response


# ---- configuration ----


@pytest.mark.parametrize(
    "compression",
    [
        {"triggerTokens": 100, "slidingWindow": {"targetTokens": 50}},
        {"trigger_tokens": "100", "sliding_window": {"target_tokens": "50"}},  # JS: int64 strings
    ],
)
def test_camel_snake_and_string_int64_are_accepted(compression: dict[str, Any]) -> None:
    s = make(compression)
    assert compression_limits(s.state.setup, WINDOW) == (100, 50)


def test_defaults_follow_the_models_window() -> None:
    s = make({})
    assert compression_limits(s.state.setup, 1000) == (800, 400)
    assert compression_limits(make({"slidingWindow": {}}).state.setup, 1000) == (800, 400)
    assert compression_limits(make({"triggerTokens": 300}).state.setup, 1000) == (300, 150)
    # a trigger beyond the window cannot be honoured: 80 % of the window instead
    big = make({"triggerTokens": 5000, "slidingWindow": {"targetTokens": 2500}}).state.setup
    assert compression_limits(big, 1000) == (800, 400)
    assert compression_limits(make().state.setup, 1000) is None


@pytest.mark.parametrize(
    ("compression", "reason"),
    [
        ({"triggerTokens": -5}, "contextWindowCompression.triggerTokens must be positive"),
        ({"triggerTokens": 0}, "contextWindowCompression.triggerTokens must be positive"),
        (
            {"slidingWindow": {"targetTokens": -1}},
            "slidingWindow.targetTokens must not be negative",
        ),
        (
            {"triggerTokens": 100, "slidingWindow": {"targetTokens": 200}},
            "targetTokens (200) must not exceed triggerTokens (100)",
        ),
    ],
)
def test_invalid_values_close_1007_naming_the_field(
    compression: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidArgument) as info:
        make(compression)
    assert info.value.code == 1007
    assert reason in info.value.reason


# ---- compression ----


def test_a_long_conversation_stays_within_bounds_and_keeps_its_latest_turns() -> None:
    s = make({"triggerTokens": 120, "slidingWindow": {"targetTokens": 60}})
    prompts = []
    for i in range(40):
        request, out = turn(s, f"message{i} about the weather in city number {i} today", i)
        prompts.append(usage(out)["promptTokenCount"])
        assert usage(out)["promptTokenCount"] == words(request)  # what the engine was given
        assert s.context_tokens() <= 120
        assert s.state.history[0].role == "user"
    texts = user_texts(s)
    assert texts[-1].startswith("message39 ")
    assert texts[-3].startswith("message37 ")
    assert not any(t.startswith("message0 ") for t in texts)
    assert s.state.window.dropped_turns > 20
    # prompts never grow past the trigger plus one turn's input
    assert max(prompts) <= 120 + 12
    # the sizes are the engine's counts: the next prompt is what the core expected
    expected = s.context_tokens()
    request = generation(s.receive_client(user("one more"), 99))
    assert words(request) == expected + 2


def test_below_the_trigger_nothing_is_dropped_and_counts_are_exact() -> None:
    s = make({"triggerTokens": 10_000})
    for i in range(5):
        turn(s, f"message{i} short", i)
    assert len(user_texts(s)) == 5
    request = generation(s.receive_client(user("last"), 9))
    assert s.context_tokens() == words(request)


def test_compression_notes_say_what_was_dropped() -> None:
    s = make({"triggerTokens": 60, "slidingWindow": {"targetTokens": 30}})
    notes: list[str] = []
    for i in range(8):
        _, out = turn(s, f"message{i} with a handful of words in it", i)
        notes += [a.message for a in out if isinstance(a, Note)]
    assert any("context window compression: dropped" in n for n in notes)


def test_the_window_state_survives_a_snapshot() -> None:
    s = make({"triggerTokens": 60, "slidingWindow": {"targetTokens": 30}})
    for i in range(8):
        turn(s, f"message{i} with a handful of words in it", i)
    restored = LiveSession.from_json(s.to_json())
    assert restored.state.window == s.state.window
    assert restored.context_tokens() == s.context_tokens()


def test_cut_points_never_split_a_call_from_its_response() -> None:
    def c(role: str, *parts: dict[str, Any]) -> Content:
        return Content.model_validate({"role": role, "parts": list(parts)})

    call = {"functionCall": {"id": "c1", "name": "door", "args": {}}}
    result = {"functionResponse": {"id": "c1", "name": "door", "response": {}}}
    history = [
        c("user", {"text": "a"}),  # 0
        c("model", {"text": "A"}),
        c("user", {"text": "b"}),  # 2
        c("model", call),
        c("user", result),
        c("model", {"text": "B"}),
        c("user", {"text": "c"}),  # 6
        c("model", {"text": "C"}),
        c("user", {"text": "d"}),  # 8
    ]
    assert cut_points(history, set()) == [2, 6, 8]
    assert cut_points(history, {"c1"}) == [2, 6, 8]  # owed: carried, not a limit
    late = [*history, c("model", {"text": "D"}), c("user", result)]  # answered later
    assert cut_points(late, set()) == [2]


def test_tool_state_is_kept_across_a_compression() -> None:
    tools = [{"functionDeclarations": [LIGHTS]}]
    s = make({"triggerTokens": 80, "slidingWindow": {"targetTokens": 40}}, tools=tools)
    for i in range(3):
        turn(s, f"early{i} chatter with several words in it", i)
    # a NON_BLOCKING call starts; its turn must stay while it runs
    request = generation(s.receive_client(user("lights in the kitchen please"), 10))
    out = s.receive_engine(
        FunctionCalls(request.turn_id, (FunctionCallPart("lights", {"room": "kitchen"}),)), 10
    )
    out += s.receive_engine(
        GenerationDone(request.turn_id, words(request), 0, context_window=WINDOW), 10
    )
    call_id = next(iter(s.state.background))
    follow = generation(out)  # the turn goes on: the model says what it is doing
    answer(s, follow, "switching them on", 10)
    for i in range(12):
        turn(s, f"later{i} chatter with several words in it", 11 + i)
        assert call_id in s.state.background
        assert any(
            p.function_call is not None and p.function_call.id == call_id
            for c in s.state.history
            for p in c.parts
        )
        no_orphans(s.state.history)
    assert not any(t.startswith("early") for t in user_texts(s))  # older turns went
    assert not any(t.startswith("lights in") for t in user_texts(s))  # the call's turn too
    assert s.context_tokens() <= 80
    # ... but not the call: it leads the history, with its placeholder answer
    first, second = s.state.history[:2]
    assert first.parts[0].function_call is not None
    assert first.parts[0].function_call.id == call_id
    assert second.parts[0].function_response is not None
    # the result arrives: it joins the history after its call, and the reply answers it
    result = {"toolResponse": {"functionResponses": [{"id": call_id, "response": {"ok": True}}]}}
    out = s.receive_client(ClientMessage.model_validate(result), 30)
    reply = generation(out)
    assert any(
        "ok" in str(p.response) for m in reply.messages for p in m.parts if hasattr(p, "response")
    )
    answer(s, reply, "the kitchen lights are on", 30)
    for i in range(10):
        turn(s, f"final{i} chatter with several words in it", 31 + i)
        no_orphans(s.state.history)
    assert s.context_tokens() <= 80  # once answered, the call's turn may go, whole
    assert not any(p.function_call is not None for c in s.state.history for p in c.parts)


# ---- overflow ----


def overflow(request: GenerationRequest, extra: int = 0) -> GenerationFailed:
    """The word-counting engine refuses the prompt (``extra``: it counts more than words,
    as an endpoint that adds the reply's cap does)."""
    return GenerationFailed.of(request.turn_id, ContextOverflow(words(request) + extra, WINDOW))


def test_overflow_without_compression_closes_with_a_clear_reason() -> None:
    s = make()
    for i in range(3):
        turn(s, f"message{i} words words", i)
    request = generation(s.receive_client(user("huge " * 400), 5))
    out = s.receive_engine(overflow(request), 5)
    (close,) = [a for a in out if isinstance(a, Close)]
    assert close.code == 1011
    assert close.reason == (
        f"the conversation ({words(request)} tokens) no longer fits the model's context "
        f"window ({WINDOW} tokens); enable contextWindowCompression"
    )
    assert len(close.reason.encode()) <= 123
    assert s.state.closed


def test_an_overflowing_turn_drops_older_turns_and_is_generated_again() -> None:
    s = make({"triggerTokens": 300, "slidingWindow": {"targetTokens": 100}})
    for i in range(6):
        turn(s, f"message{i} words words words", i)
    # below the trigger by the core's reckoning, but the engine counts more (an image, say)
    request = generation(s.receive_client(user("a big paste " * 60), 10))
    assert len(request.messages) == 13
    out = s.receive_engine(overflow(request, extra=250), 10)
    assert not [a for a in out if isinstance(a, Close)]
    assert any(isinstance(a, Note) and "overflowed" in a.message for a in out)
    retry = generation(out)
    assert retry.turn_id == request.turn_id
    assert len(retry.messages) < 13
    assert retry.messages[-1].text.startswith("a big paste")
    # the retry is counted, the failed attempt is not
    done = answer(s, retry, "that is a lot", 11)
    assert usage(done)["promptTokenCount"] == words(retry)


def test_an_overflowing_retry_closes() -> None:
    s = make({"triggerTokens": 300, "slidingWindow": {"targetTokens": 100}})
    for i in range(6):
        turn(s, f"message{i} words words words", i)
    request = generation(s.receive_client(user("a big paste " * 60), 10))
    retry = generation(s.receive_engine(overflow(request, extra=250), 10))
    out = s.receive_engine(overflow(retry, extra=250), 10)  # once per round
    (close,) = [a for a in out if isinstance(a, Close)]
    assert close.code == 1011
    assert close.reason.startswith(f"the latest turn ({words(retry) + 250} tokens) does not fit")
    assert "even with compression" in close.reason


def test_input_above_the_trigger_drops_older_turns_before_generating() -> None:
    s = make({})  # 80 % of the window: 320, target 160
    turn(s, "hello there", 1)
    out = s.receive_client(user("only turn " * 300), 2)
    assert any(isinstance(a, Note) and "compression: dropped" in a.message for a in out)
    request = generation(out)
    assert len(request.messages) == 1  # "hello there" went before the engine was asked
    out = s.receive_engine(overflow(request), 2)  # alone, it still does not fit
    (close,) = [a for a in out if isinstance(a, Close)]
    assert (close.code, "even with compression" in close.reason) == (1011, True)


def test_overflow_in_a_later_round_keeps_the_calls_of_the_turn() -> None:
    tools = [{"functionDeclarations": [DOOR]}]
    s = make({"triggerTokens": 1000, "slidingWindow": {"targetTokens": 10}}, tools=tools)
    for i in range(4):
        turn(s, f"message{i} words words", i)
    request = generation(s.receive_client(user("open the door"), 5))
    out = s.receive_engine(FunctionCalls(request.turn_id, (FunctionCallPart("door", {}),)), 5)
    out += s.receive_engine(GenerationDone(request.turn_id, words(request), 0), 5)
    call_id = next(iter(s.state.turn.calls)) if s.state.turn else ""
    response = {"toolResponse": {"functionResponses": [{"id": call_id, "response": {"ok": 1}}]}}
    second = generation(s.receive_client(ClientMessage.model_validate(response), 6))
    retry = generation(s.receive_engine(overflow(second), 6))
    assert retry.messages[0].text == "open the door"  # the whole current turn, nothing older
    no_orphans(s.state.history)
    assert len(retry.messages) == 3
