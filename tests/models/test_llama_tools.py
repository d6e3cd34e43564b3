"""Function calls from the embedded model: constrained to the declarations, whatever the
sampling; answers that use the results."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlive.models import Scheduler
from openlive.models.llm.llama import LlamaBackend
from openlive.session import (
    ChatMessage,
    FunctionCallPart,
    FunctionCalls,
    FunctionResponsePart,
    GenerationDone,
    GenerationRequest,
    SamplingParams,
    TextDelta,
    ToolSpec,
)
from openlive.session.tools import check_arguments

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather for a city.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
)
TIMER = ToolSpec(
    "set_timer",
    "Start a countdown timer.",
    {
        "type": "object",
        "properties": {"minutes": {"type": "integer"}, "label": {"type": "string"}},
        "required": ["minutes"],
    },
)
SYSTEM = "You are a helpful voice assistant. Use a function when one fits the request."


@pytest.fixture(scope="module")
def backend(gguf_path: Path) -> LlamaBackend:
    return LlamaBackend(Scheduler(), gguf_path, n_ctx=4096)


async def run(
    backend: LlamaBackend,
    sid: str,
    messages: list[ChatMessage],
    mode: str = "AUTO",
    **params: object,
) -> tuple[str, list[FunctionCallPart], GenerationDone]:
    request = GenerationRequest(
        sid,
        1,
        SYSTEM,
        tuple(messages),
        SamplingParams(**params),  # type: ignore[arg-type]
        tools=(WEATHER, TIMER),
        tool_mode=mode,
    )
    text, calls, done = "", [], None
    async for event in backend.generate(request):
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, FunctionCalls):
            calls.extend(event.calls)
        elif isinstance(event, GenerationDone):
            done = event
    assert done is not None
    return text, calls, done


async def test_weather_question_becomes_a_valid_call(backend: LlamaBackend) -> None:
    ask = [ChatMessage.of_text("user", "What's the weather in Tokyo?")]
    text, calls, _ = await run(backend, "w", ask, temperature=0.0)
    assert [c.name for c in calls] == ["get_weather"]
    assert "tokyo" in calls[0].args["city"].lower()
    assert "{" not in text and "tool_call" not in text  # no JSON reaches the user


async def test_a_plain_question_needs_no_call(backend: LlamaBackend) -> None:
    ask = [ChatMessage.of_text("user", "What is the capital of France? One word.")]
    text, calls, _ = await run(backend, "p", ask, temperature=0.0)
    assert calls == [] and "paris" in text.lower()


async def test_calls_are_valid_even_when_sampling_runs_wild(backend: LlamaBackend) -> None:
    """ANY forces a call; at temperature 2 an unconstrained 0.5B model writes anything, the
    grammar still admits only declared names and arguments that fit their schema."""
    ask = [ChatMessage.of_text("user", "Do something useful, surprise me!")]
    for seed in range(6):
        _, calls, _ = await run(backend, f"wild{seed}", ask, "ANY", temperature=2.0, seed=seed)
        assert calls, f"seed {seed}: ANY made no call"
        for call in calls:
            spec = {"get_weather": WEATHER, "set_timer": TIMER}[call.name]
            assert check_arguments(spec.parameters, call.args) is None, call
            assert set(call.args) <= set(spec.parameters["properties"])  # type: ignore[index]


async def test_the_answer_uses_the_result(backend: LlamaBackend) -> None:
    conversation = [
        ChatMessage.of_text("user", "What's the weather in Tokyo?"),
        ChatMessage("assistant", (FunctionCallPart("get_weather", {"city": "Tokyo"}, "c1"),)),
        ChatMessage(
            "user",
            (
                FunctionResponsePart(
                    "get_weather", {"output": {"temperature_c": 21, "sky": "sunny"}}, "c1"
                ),
            ),
        ),
    ]
    # the round the session runs when the model repeats a call: no functions offered
    text, calls, _ = await run(backend, "r", conversation, "NONE", temperature=0.0)
    assert calls == []
    assert "21" in text and "sunny" in text.lower()


async def test_any_forces_a_call_even_for_a_greeting(backend: LlamaBackend) -> None:
    ask = [ChatMessage.of_text("user", "Hello there!")]
    text, calls, _ = await run(backend, "any1", ask, "ANY", temperature=0.0)
    assert calls and text == ""
