"""LLM eval: tool use and short answers of each embedded model, through the embedded engine.

Runs every prompt of ``benchmarks/data/tool_prompts.json`` (calls that should happen, with
their arguments; several tools to choose among; several calls in one request; prompts that
need no tool) and ``benchmarks/data/answer_prompts.json`` (short factual and conversational
questions with accepted answers) through :class:`~openlive.models.llm.llama.LlamaBackend` with
the tools declared as a session declares them (constrained decoding included), greedy unless
``--temperature`` says otherwise. Prints, per model: tool precision/recall, argument accuracy,
no-tool accuracy, answer accuracy, latency percentiles (to the first word of a text reply; to
the end of a call, which is when the client receives it) and decode tokens/s.

    python -m benchmarks.llm_eval                         # every installed candidate
    python -m benchmarks.llm_eval --models qwen2.5-coder-0.5b --show

A call matches an expected one by name; its arguments are right when every expected argument
is there (strings: the expected text appears in the value, ignoring case; numbers: equal).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openlive.errors import WeightsError
from openlive.models import Scheduler
from openlive.models.llm.catalog import LLM_CATALOG, llm_weights
from openlive.models.llm.llama import LlamaBackend
from openlive.session import (
    ChatMessage,
    FunctionCallPart,
    FunctionCalls,
    GenerationDone,
    GenerationRequest,
    SamplingParams,
    TextDelta,
)
from openlive.session.tools import declared_tools
from openlive.types import Tool

from ._common import percentile

DATA = Path(__file__).parent / "data"


@dataclass
class Tally:
    made: int = 0
    expected: int = 0
    matched: int = 0
    args_right: int = 0
    no_tool: int = 0
    no_tool_right: int = 0
    exact: int = 0
    prompts: int = 0
    answers: int = 0
    answers_right: int = 0
    first: list[float] = field(default_factory=list)
    call_times: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def arg_ok(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str):
        return isinstance(actual, str) and expected.lower() in actual.lower()
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return isinstance(actual, int | float) and float(actual) == float(expected)
    return bool(expected == actual)


def score_calls(tally: Tally, expected: list[dict[str, Any]], made: list[FunctionCallPart]) -> bool:
    tally.made += len(made)
    tally.expected += len(expected)
    left = list(made)
    all_right = len(made) == len(expected)
    for want in expected:
        hit = next((c for c in left if c.name == want["name"]), None)
        if hit is None:
            all_right = False
            continue
        left.remove(hit)
        tally.matched += 1
        if all(arg_ok(v, hit.args.get(k)) for k, v in want["args"].items()):
            tally.args_right += 1
        else:
            all_right = False
    return all_right


async def run_one(
    backend: LlamaBackend, request: GenerationRequest, tally: Tally
) -> tuple[str, list[FunctionCallPart]]:
    start = time.perf_counter()
    first: float | None = None
    text = ""
    calls: list[FunctionCallPart] = []
    done: GenerationDone | None = None
    async for event in backend.generate(request):
        if first is None and isinstance(event, TextDelta) and event.text.strip():
            first = time.perf_counter()
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, FunctionCalls):
            tally.call_times.append(time.perf_counter() - start)
            calls.extend(event.calls)
        elif isinstance(event, GenerationDone):
            done = event
    end = time.perf_counter()
    if first is not None:
        tally.first.append(first - start)
        if done is not None and done.output_tokens > 1 and end > first:
            tally.rates.append((done.output_tokens - 1) / (end - first))
    backend.forget(request.session_id)
    return text, calls


async def evaluate(name: str, path: Path, params: SamplingParams, show: bool) -> Tally:
    backend = LlamaBackend(Scheduler(), path, n_ctx=4096, label=name)
    await backend.ready()
    tally = Tally()
    tool_data = json.loads((DATA / "tool_prompts.json").read_text())
    tools = declared_tools([Tool.model_validate({"functionDeclarations": tool_data["tools"]})])
    for i, item in enumerate(tool_data["prompts"]):
        request = GenerationRequest(
            f"tool-{i}",
            1,
            tool_data["system"],
            (ChatMessage.of_text("user", item["prompt"]),),
            params,
            tools=tools,
        )
        text, calls = await run_one(backend, request, tally)
        tally.prompts += 1
        if not item["calls"]:
            tally.no_tool += 1
            tally.no_tool_right += not calls
        right = score_calls(tally, item["calls"], calls)
        tally.exact += right
        shown = ", ".join(f"{c.name}({json.dumps(c.args)})" for c in calls) or text.strip()
        if not right:
            tally.failures.append(f"tool: {item['prompt']!r} -> {shown[:120]!r}")
        if show:
            print(f"  [{'ok' if right else '--'}] {item['prompt']} -> {shown[:140]}")
    answer_data = json.loads((DATA / "answer_prompts.json").read_text())
    for i, item in enumerate(answer_data["prompts"]):
        history = tuple(ChatMessage.of_text(r, t) for r, t in item.get("history", []))
        request = GenerationRequest(
            f"answer-{i}",
            1,
            answer_data["system"],
            (*history, ChatMessage.of_text("user", item["prompt"])),
            params,
        )
        text, _ = await run_one(backend, request, tally)
        low = text.lower()
        right = any(a in low for a in item["accept"]) and not any(r in low for r in item["reject"])
        tally.answers += 1
        tally.answers_right += right
        if not right:
            tally.failures.append(f"answer: {item['prompt']!r} -> {text.strip()[:120]!r}")
        if show:
            print(f"  [{'ok' if right else '--'}] {item['prompt']} -> {text.strip()[:140]!r}")
    await backend.close()
    return tally


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "n/a"


def report(name: str, t: Tally) -> None:
    print(f"\n{name}")
    print(f"  tool precision     {ratio(t.matched, t.made)}")
    print(f"  tool recall        {ratio(t.matched, t.expected)}")
    print(f"  argument accuracy  {ratio(t.args_right, t.matched)}")
    print(f"  no-tool accuracy   {ratio(t.no_tool_right, t.no_tool)}")
    print(f"  tool prompts exact {ratio(t.exact, t.prompts)}")
    print(f"  answer accuracy    {ratio(t.answers_right, t.answers)}")
    for label, values in (("first text ms", t.first), ("whole call ms", t.call_times)):
        ms = [x * 1000 for x in values]
        print(
            f"  {label:<18} p50 {percentile(ms, 50):.0f}  p90 {percentile(ms, 90):.0f}  "
            f"max {max(ms, default=0):.0f}  (n={len(ms)})"
        )
    print(f"  decode tokens/s    p50 {percentile(t.rates, 50):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", help="comma-separated catalog names or name=path.gguf")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--show", action="store_true", help="print every prompt and answer")
    args = parser.parse_args()
    # no seed: a seeded request re-reads its whole prompt (see the embedded engine), which
    # would time a cold prompt every time; greedy decoding is repeatable without one
    params = SamplingParams(temperature=args.temperature, max_tokens=160)
    chosen = args.models.split(",") if args.models else list(LLM_CATALOG)
    results: list[tuple[str, Tally]] = []
    for entry in chosen:
        name, _, raw = entry.partition("=")
        try:
            path = Path(raw) if raw else llm_weights(name)
        except WeightsError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        print(f"== {name} ({path.name})", flush=True)
        tally = asyncio.run(evaluate(name, path, params, args.show))
        report(name, tally)
        results.append((name, tally))
    for name, tally in results:
        if tally.failures:
            print(f"\n{name} misses:")
            for line in tally.failures:
                print(f"  {line}")


if __name__ == "__main__":
    main()
