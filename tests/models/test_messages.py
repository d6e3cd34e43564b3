"""What the LLM backends make of a conversation's typed parts (no model needed)."""

from __future__ import annotations

import json

from openlive.models.llm.chat import chat_messages
from openlive.models.llm.llama import _as_text
from openlive.models.llm.remote import RemoteBackend
from openlive.session import (
    ChatMessage,
    FunctionCallPart,
    FunctionResponsePart,
    GenerationRequest,
    InlinePart,
    TextPart,
    ToolSpec,
)

PICTURE = ChatMessage("user", (TextPart("What is this?"), InlinePart("image/png", b"\x89PNG")))
CALL = ChatMessage("assistant", (FunctionCallPart("get_weather", {"city": "Paris"}, "c1"),))
RESULT = ChatMessage("user", (FunctionResponsePart("get_weather", {"temp": 21}, "c1"),))


def _message(message: ChatMessage) -> dict[str, object]:
    (only,) = chat_messages("", (message,))
    return only


def test_remote_sends_images_calls_and_results_in_the_openai_shape() -> None:
    picture = _message(PICTURE)
    assert picture["content"][0] == {"type": "text", "text": "What is this?"}
    assert picture["content"][1]["image_url"]["url"] == "data:image/png;base64,iVBORw=="
    call = _message(CALL)
    assert call["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": json.dumps({"city": "Paris"}),
    }
    assert _message(RESULT) == {
        "role": "tool",
        "tool_call_id": "c1",
        "name": "get_weather",
        "content": '{"temp": 21}',
    }
    assert _message(ChatMessage.of_text("user", "hi")) == {"role": "user", "content": "hi"}


def test_remote_passes_tools_and_continues_a_resumed_reply() -> None:
    backend = RemoteBackend("http://127.0.0.1:1")
    request = GenerationRequest(
        "s",
        1,
        "",
        (ChatMessage.of_text("user", "Count to five."),),
        tools=(ToolSpec("end_call", "Hang up."),),
        continuation="One, two,",
    )
    body = backend._body(request)
    assert body["tools"][0]["function"]["name"] == "end_call"
    assert body["messages"][-1] == {"role": "assistant", "content": "One, two,"}
    assert body["continue_final_message"] is True


def test_the_text_model_reads_parts_it_cannot_see_as_text() -> None:
    assert _as_text(PICTURE) == "What is this?[image/png attachment]"
    # calls are left out (a small model shown them as text writes another instead of an
    # answer); their results are written out
    assert _as_text(CALL) == ""
    assert _as_text(RESULT) == '(get_weather result: {"temp": 21})'


def test_remote_streamed_tool_calls_are_assembled() -> None:
    from openlive.models.llm.remote import _collect_call, _parse_calls

    calls: dict[int, dict[str, str]] = {}
    for delta in (
        {"index": 0, "id": "a", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"city": '}},
        {"index": 1, "function": {"name": "turn_on_the_lights", "arguments": "{}"}},
        {"index": 0, "function": {"arguments": '"Tokyo"}'}},
    ):
        _collect_call(calls, delta)
    parsed = _parse_calls(calls)
    assert [(c.name, c.args) for c in parsed] == [
        ("get_weather", {"city": "Tokyo"}),
        ("turn_on_the_lights", {}),
    ]


def test_answers_read_off_function_results_sample_cooler() -> None:
    """Unless the client chose a temperature, a reply right after function results samples at
    most at RESULT_TEMPERATURE (at 0.7 the 1.5B sometimes wrote about the call format)."""
    from dataclasses import replace
    from typing import Any, cast

    from openlive.models.llm.llama import DEFAULT_SAMPLING, RESULT_TEMPERATURE, LlamaBackend

    question = ChatMessage.of_text("user", "What's the weather in Paris?")
    after = GenerationRequest("s", 1, "", (question, CALL, RESULT))
    before = GenerationRequest("s", 1, "", (question,))
    sampling = LlamaBackend._sampling
    backend = cast(Any, None)  # _sampling reads only the request
    assert sampling(backend, before)["temp"] == DEFAULT_SAMPLING["temperature"]
    assert sampling(backend, after)["temp"] == RESULT_TEMPERATURE
    chosen = replace(after, params=replace(after.params, temperature=0.9))
    assert sampling(backend, chosen)["temp"] == 0.9
