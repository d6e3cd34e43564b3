"""The embedded engines' function-call format: marker scanning, parsing, the call grammar,
and the chat-format conversation (no model needed)."""

from __future__ import annotations

import json

import pytest

from openlive.models.llm.chat import chat_messages, effective_tool_mode
from openlive.models.llm.toolcall import (
    MarkerScanner,
    call_grammar,
    call_schema,
    grounded,
    parse_calls,
)
from openlive.session import (
    ChatMessage,
    FunctionCallPart,
    FunctionResponsePart,
    GenerationRequest,
    TextPart,
    ToolSpec,
)

WEATHER = ToolSpec(
    "get_weather",
    "Weather for a city",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit", None]},
        },
        "required": ["city"],
    },
)
LIGHTS = ToolSpec("turn_on_the_lights", "", None)


def scan(markers: list[str], pieces: list[str]) -> tuple[str, str | None]:
    scanner = MarkerScanner(markers)
    out = "".join(scanner.feed(p) for p in pieces)
    return out + scanner.flush(), scanner.found


def test_scanner_releases_text_and_stops_at_a_marker_split_across_pieces() -> None:
    assert scan(["<tool_call>"], ["Let me check. <to", "ol_c", "all>\n{"]) == (
        "Let me check. ",
        "<tool_call>",
    )


def test_scanner_gives_back_a_held_prefix_that_was_not_a_marker() -> None:
    assert scan(["<tool_call>"], ["a <to", "y> b"]) == ("a <toy> b", None)
    assert scan(["<tool_call>", "STOP"], ["x ST", "ST", "OP y"]) == ("x ST", "STOP")


def test_scanner_holds_only_what_could_start_a_marker() -> None:
    scanner = MarkerScanner(["<tool_call>"])
    assert scanner.feed("hello <") == "hello "
    assert scanner.feed("b") == "<b"


def test_parse_calls_reads_every_closed_call_and_skips_a_cut_one() -> None:
    text = (
        '{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tool_call>\n<tool_call>\n'
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n'
        '{"name": "get_wea'
    )
    assert parse_calls(text) == (
        FunctionCallPart("get_weather", {"city": "Tokyo"}),
        FunctionCallPart("get_weather", {"city": "Paris"}),
    )


def test_call_schema_closes_objects() -> None:
    schema = call_schema(WEATHER)
    assert schema["properties"]["name"] == {"const": "get_weather"}
    assert schema["properties"]["arguments"]["additionalProperties"] is False
    assert call_schema(LIGHTS)["properties"]["arguments"] == {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }


def test_call_grammar_parses_and_accepts_only_declared_calls() -> None:
    pytest.importorskip("llama_cpp")
    from llama_cpp import LlamaGrammar

    gbnf = call_grammar((WEATHER, LIGHTS), max_calls=3)
    assert gbnf.startswith("root ::= call ")
    assert '"\\"get_weather\\""' in gbnf and '"\\"turn_on_the_lights\\""' in gbnf
    assert "{0,2}" in gbnf
    LlamaGrammar.from_string(gbnf, verbose=False)  # llama.cpp's parser accepts it


def test_chat_messages_for_templates_and_for_http() -> None:
    call = FunctionCallPart("get_weather", {"city": "Tokyo"}, "c1")
    messages = (
        ChatMessage.of_text("user", "Weather in Tokyo?"),
        ChatMessage("assistant", (TextPart("Checking."), call)),
        ChatMessage(
            "user",
            (
                FunctionResponsePart("get_weather", {"output": "sunny"}, "c1"),
                FunctionResponsePart("get_weather", {"output": "rain"}, "c2"),
            ),
        ),
    )
    template = chat_messages("Be brief.", messages, template=True)
    assert [m["role"] for m in template] == ["system", "user", "assistant", "tool", "tool"]
    assert template[2]["content"] == "Checking."
    assert template[2]["tool_calls"][0]["function"]["arguments"] == {"city": "Tokyo"}
    assert json.loads(template[4]["content"]) == {"output": "rain"}
    http = chat_messages("", messages)
    assert http[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Tokyo"}'
    assert http[1]["content"] == [{"type": "text", "text": "Checking."}]
    assert [m.get("tool_call_id") for m in http[2:]] == ["c1", "c2"]


def test_any_forces_a_call_only_before_results() -> None:
    ask = (ChatMessage.of_text("user", "Weather?"),)
    answered = (
        *ask,
        ChatMessage("assistant", (FunctionCallPart("get_weather", {"city": "x"}, "c"),)),
        ChatMessage("user", (FunctionResponsePart("get_weather", {"output": 1}, "c"),)),
    )
    base = {"session_id": "s", "turn_id": 1, "system": "", "tools": (WEATHER,)}
    assert effective_tool_mode(GenerationRequest(messages=ask, tool_mode="ANY", **base)) == "ANY"
    assert (
        effective_tool_mode(GenerationRequest(messages=answered, tool_mode="ANY", **base)) == "AUTO"
    )
    none = GenerationRequest("s", 1, "", ask, tool_mode="AUTO")
    assert effective_tool_mode(none) == "NONE"


@pytest.mark.parametrize(
    ("call", "said", "expected"),
    [
        (
            FunctionCallPart("get_weather", {"city": "Tokyo", "unit": "celsius"}),
            "weather in tokyo?",
            True,
        ),
        (
            FunctionCallPart("set_timer", {"minutes": 3, "label": "Egg Timer"}),
            "three minutes for the eggs",
            True,
        ),
        (FunctionCallPart("set_timer", {"minutes": 10}), "a timer for 10 minutes", True),
        (FunctionCallPart("end_call", {}), "thanks, bye!", True),
        (
            FunctionCallPart("get_weather", {"city": "New York"}),
            "How many legs does a spider have?",
            False,
        ),
        (
            FunctionCallPart("get_weather", {"city": "Tokyo"}),
            "What is the capital of Japan?",
            False,
        ),
        (FunctionCallPart("convert", {"amount": 144, "to": "EUR"}), "What is 12 times 12?", False),
        (FunctionCallPart("set_timer", {"minutes": 1}), "set it for 10 minutes", False),
    ],
)
def test_grounded_calls_share_something_with_the_request(
    call: FunctionCallPart, said: str, expected: bool
) -> None:
    assert grounded(call, said) is expected
