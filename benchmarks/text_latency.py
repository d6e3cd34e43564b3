"""Text turn latency at the client on the embedded engine: time to first text chunk and decode
tokens/s over a multi-turn conversation, against llama-cpp-python called directly in-process on
the same conversation (the baseline: the model with no protocol, server or scheduler).

    python benchmarks/text_latency.py [--turns 24]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchmarks._common import loop_lag, machine, percentile, start_openlive
from openlive import Client
from openlive.models.llm.catalog import DEFAULT_LLM, llm_weights

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


async def openlive_turns(url: str, turns: int) -> tuple[list[float], list[float]]:
    client = Client(base_url=url)
    ttft: list[float] = []
    rates: list[float] = []
    config = {
        "response_modalities": ["TEXT"],
        "temperature": 0.0,
        "max_output_tokens": MAX_TOKENS,
        "system_instruction": SYSTEM,
    }
    done = 0
    while done < turns:
        async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as s:
            for question in QUESTIONS[: min(len(QUESTIONS), turns - done)]:
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
                done += 1
    return ttft, rates


def direct_turns(turns: int) -> tuple[list[float], list[float]]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(llm_weights(DEFAULT_LLM)), n_ctx=8192, n_threads=2, verbose=False)
    ttft: list[float] = []
    rates: list[float] = []
    done = 0
    while done < turns:
        history = [{"role": "system", "content": SYSTEM}]
        for question in QUESTIONS[: min(len(QUESTIONS), turns - done)]:
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
            done += 1
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
    args = parser.parse_args()
    server = start_openlive("--no-tls", "--n-ctx", "8192")
    try:
        client = Client(base_url=server.url)
        async with client.aio.live.connect(
            model="gemini-2.0-flash", config={"response_modalities": ["TEXT"]}
        ) as s:
            await s.send_client_content(turns="warm up")  # waits for the model to load
            [m async for m in s.receive()]
        ours = await openlive_turns(server.url, args.turns)
        lag = loop_lag(server.url)
    finally:
        server.stop()
    base = direct_turns(args.turns)
    print(
        f"text turn latency ({machine()}): embedded Qwen2.5-0.5B Q4_K_M, multi-turn sessions "
        f"of up to {len(QUESTIONS)} questions, {MAX_TOKENS} tokens max, temperature 0"
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
