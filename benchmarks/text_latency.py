"""Text turn latency at the client on the embedded engine: time to first text chunk and decode
tokens/s over multi-turn conversations, against llama-cpp-python called directly in-process on
the same conversations (the baseline: the model with no protocol, server or scheduler).

Both load the same GGUF file with the same thread count and context length, both are warmed
up, and their rounds are interleaved in one run (a session of questions on the server, then
the same questions on the baseline, and so on), so both meet the same machine.

    python -m benchmarks.text_latency [--turns 24] [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

from benchmarks._common import loop_lag, machine, percentile, start_openlive
from openlive import Client
from openlive.models.llm.catalog import DEFAULT_LLM, llm_choice, llm_weights

QUESTIONS = [
    "What is the capital of France?",
    "Name three primary colors.",
    "What is 12 times 12?",
    "Who wrote Romeo and Juliet?",
    "What is the boiling point of water in Celsius?",
    "Give me a synonym for happy.",
    "What planet is known as the red planet?",
    "How many days are in a leap year?",
    "What is the largest ocean?",
    "Translate 'thank you' to Spanish.",
    "What gas do plants absorb?",
    "What is the square root of 81?",
]
SYSTEM = "You are a helpful assistant. Answer in one short sentence."
MAX_TOKENS = 48
N_CTX = 8192


async def openlive_round(url: str, questions: list[str]) -> tuple[list[float], list[float]]:
    """One session asking ``questions`` in turn: first-chunk seconds and decode tokens/s."""
    client = Client(base_url=url)
    ttft: list[float] = []
    rates: list[float] = []
    config = {
        "response_modalities": ["TEXT"],
        "temperature": 0.0,
        "max_output_tokens": MAX_TOKENS,
        "system_instruction": SYSTEM,
    }
    async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as s:
        for question in questions:
            start = time.perf_counter()
            first = last = None
            tokens = 0
            await s.send_client_content(turns=question)
            async for m in s.receive():
                if m.text:
                    last = time.perf_counter()
                    first = first or last
                if m.usage_metadata:
                    tokens = m.usage_metadata.response_token_count or 0
            assert first is not None and last is not None
            ttft.append(first - start)
            if tokens > 1 and last > first:
                rates.append((tokens - 1) / (last - first))
    return ttft, rates


def direct_round(llm: Any, questions: list[str]) -> tuple[list[float], list[float]]:
    """The same conversation on llama-cpp-python directly."""
    ttft: list[float] = []
    rates: list[float] = []
    history = [{"role": "system", "content": SYSTEM}]
    for question in questions:
        history.append({"role": "user", "content": question})
        start = time.perf_counter()
        first = last = None
        pieces = 0
        text = ""
        stream = llm.create_chat_completion(
            history, stream=True, temperature=0.0, max_tokens=MAX_TOKENS
        )
        for chunk in stream:
            delta = chunk["choices"][0]["delta"].get("content")
            if delta:
                last = time.perf_counter()
                first = first or last
                pieces += 1
                text += delta
        assert first is not None and last is not None
        ttft.append(first - start)
        if pieces > 1 and last > first:
            rates.append((pieces - 1) / (last - first))
        history.append({"role": "assistant", "content": text})
    return ttft, rates


def row(name: str, ttft: list[float], rates: list[float]) -> str:
    return (
        f"  {name:<9}: first chunk p50 {percentile(ttft, 50) * 1000:6.0f} ms  "
        f"p95 {percentile(ttft, 95) * 1000:6.0f} ms   decode p50 "
        f"{percentile(rates, 50):5.1f} tok/s  p5 {percentile(rates, 5):5.1f} tok/s "
        f" (n={len(ttft)})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=24)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--round", type=int, default=6, help="questions per session")
    args = parser.parse_args()
    from llama_cpp import Llama

    name = os.environ.get("OPENLIVE_LLM") or DEFAULT_LLM  # what the server is started with
    path = llm_weights(name)
    server = start_openlive(
        "--no-tls", "--n-ctx", str(N_CTX), "--threads", str(args.threads), "--llm-path", str(path)
    )
    try:
        llm = Llama(
            model_path=str(path),
            n_ctx=N_CTX,
            n_threads=args.threads,
            n_threads_batch=args.threads,
            n_batch=512,
            verbose=False,
        )
        # warm up both: the first reply of each pays for its first prompt evaluation
        await openlive_round(server.url, ["warm up"])
        direct_round(llm, ["warm up"])
        ours: tuple[list[float], list[float]] = ([], [])
        base: tuple[list[float], list[float]] = ([], [])
        done = 0
        while done < args.turns:
            offset = done % len(QUESTIONS)
            size = min(args.round, args.turns - done)
            questions = (QUESTIONS * 2)[offset : offset + size]
            for result, measure in ((ours, "server"), (base, "direct")):
                if measure == "server":
                    got = await openlive_round(server.url, questions)
                else:
                    got = direct_round(llm, questions)
                result[0].extend(got[0])
                result[1].extend(got[1])
            done += size
        lag = loop_lag(server.url)
    finally:
        server.stop()
    print(
        f"text turn latency ({machine()}, {args.threads} threads each): embedded "
        f"{llm_choice(name).summary.split(' (')[0]} ({path.name}), sessions of {args.round} "
        f"questions interleaved with the direct baseline, {MAX_TOKENS} tokens max, "
        "temperature 0"
    )
    print(row("openlive", *ours))
    print(row("direct", *base))
    print(
        f"  ratio    : first chunk p50 {percentile(ours[0], 50) / percentile(base[0], 50):.2f}x"
        f", decode p50 {percentile(ours[1], 50) / percentile(base[1], 50):.2f}x"
    )
    print(lag)


if __name__ == "__main__":
    asyncio.run(main())
