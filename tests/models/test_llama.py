"""The embedded LLM backend on the real model: answers, per-session state, cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from openlive.models import Scheduler
from openlive.models.llm.llama import LlamaBackend
from openlive.session import (
    ChatMessage,
    GenerationDone,
    GenerationRequest,
    SamplingParams,
    TextDelta,
)

# one event loop for the module, like the one loop of a server: the backend is shared
pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def backend(gguf_path: Path) -> LlamaBackend:
    return LlamaBackend(Scheduler(), gguf_path, n_ctx=4096)


async def ask(
    backend: LlamaBackend, sid: str, turn: int, messages: list[ChatMessage], **params: object
) -> tuple[str, GenerationDone]:
    request = GenerationRequest(
        sid,
        turn,
        "You are a helpful assistant. Answer briefly.",
        tuple(messages),
        SamplingParams(**params),
    )  # type: ignore[arg-type]
    text = ""
    done = None
    async for event in backend.generate(request):
        if isinstance(event, TextDelta):
            text += event.text
        else:
            assert isinstance(event, GenerationDone)
            done = event
    assert done is not None
    return text, done


async def test_factual_answer_and_token_counts(backend: LlamaBackend) -> None:
    question = [ChatMessage.of_text("user", "What is the capital of France? Answer in one word.")]
    text, done = await ask(backend, "fact", 1, question, temperature=0.0)
    assert "paris" in text.lower()
    assert done.prompt_tokens > 10 and done.output_tokens >= 1
    assert backend.n_ctx == 4096


async def test_session_state_survives_another_session(backend: LlamaBackend) -> None:
    a = [ChatMessage.of_text("user", "My name is Ada. Say hello to me.")]
    reply_a, first = await ask(backend, "A", 1, a, temperature=0.0)
    b = [ChatMessage.of_text("user", "What is 2 + 2?")]
    await ask(backend, "B", 1, b, temperature=0.0)  # another session takes the model
    restores = backend.stats["restores"]
    a += [
        ChatMessage.of_text("assistant", reply_a),
        ChatMessage.of_text("user", "What is my name?"),
    ]
    reply, second = await ask(backend, "A", 2, a, temperature=0.0)
    assert "ada" in reply.lower()
    assert backend.stats["restores"] == restores + 1
    # the first turn's prompt was not read again
    assert second.cached_tokens >= first.prompt_tokens - 1


async def test_seed_makes_sampling_repeatable(backend: LlamaBackend) -> None:
    q = [ChatMessage.of_text("user", "Invent a name for a cat.")]
    one, _ = await ask(backend, "s1", 1, q, temperature=1.0, seed=11)
    two, _ = await ask(backend, "s2", 1, q, temperature=1.0, seed=11)
    assert one == two


async def test_max_tokens_and_stop(backend: LlamaBackend) -> None:
    q = [ChatMessage.of_text("user", "Count from 1 to 50, separated by commas.")]
    _, done = await ask(backend, "m", 1, q, temperature=0.0, max_tokens=5)
    assert done.output_tokens <= 5 and done.finish_reason == "length"
    text, _ = await ask(backend, "st", 1, q, temperature=0.0, stop=("5",))
    assert "5" not in text and "4" in text


async def test_cancel_stops_within_a_token_or_two(backend: LlamaBackend) -> None:
    q = [ChatMessage.of_text("user", "Write a very long story about a dragon.")]
    request = GenerationRequest("c", 1, "", tuple(q), SamplingParams(temperature=0.0))
    seen = 0
    gen = backend.generate(request)
    async for event in gen:
        if isinstance(event, TextDelta):
            seen += 1
            if seen == 3:
                break
    await gen.aclose()
    # the compute slot is free again at once: another request runs to completion
    text, _ = await asyncio.wait_for(
        ask(backend, "d", 1, [ChatMessage.of_text("user", "Say OK.")], temperature=0.0), 30
    )
    assert text
    state = backend._states["c"]
    prompt, _ = backend._format(request, list(q), ())
    assert len(state.tokens) - len(prompt) <= 5


async def test_forget_never_waits_for_a_generation(backend: LlamaBackend) -> None:
    """``forget`` runs on the event loop while another session's reply streams: it must
    return at once (it used to take the lock the streaming reply holds)."""
    await ask(backend, "old", 1, [ChatMessage.of_text("user", "Say hi.")], temperature=0.0)
    assert "old" in backend._states
    q = [ChatMessage.of_text("user", "Count from 1 to 200 in words.")]
    request = GenerationRequest("long", 1, "", tuple(q), SamplingParams(max_tokens=300))
    gen = backend.generate(request)
    seen = 0
    async for event in gen:
        if isinstance(event, TextDelta):
            seen += 1
        if seen == 2:
            backend.forget("old")  # mid-stream, on the loop
            assert backend._lock.locked(), "forget waited for the streaming reply to end"
            break
    await gen.aclose()
    await ask(backend, "next", 1, [ChatMessage.of_text("user", "Say OK.")], temperature=0.0)
    assert "old" not in backend._states  # dropped by the compute thread


async def test_no_state_is_saved_for_a_session_forgotten_meanwhile(backend: LlamaBackend) -> None:
    backend.forget("gone")
    q = [ChatMessage.of_text("user", "This prompt is read ahead of time by a prefill job.")]
    await backend.prefill(GenerationRequest("gone", 0, "System.", tuple(q)))
    assert "gone" not in backend._states


async def test_close_frees_the_model_on_its_thread(gguf_path: Path) -> None:
    scheduler = Scheduler()
    own = LlamaBackend(scheduler, gguf_path, n_ctx=512)
    await own.ready()
    await own.close()
    assert own._llm is None and not own._states
    await scheduler.shutdown()


async def test_a_paused_reply_goes_on_exactly_as_if_alone(backend: LlamaBackend) -> None:
    story = [ChatMessage.of_text("user", "Tell a long story about a lighthouse keeper.")]
    alone, _ = await ask(backend, "p1", 1, story, temperature=1.0, seed=5, max_tokens=120)

    pauses = backend.stats.get("pauses", 0)
    first_at: list[int] = []
    chars: list[int] = [0]

    async def long() -> str:
        request = GenerationRequest(
            "p2",
            1,
            "You are a helpful assistant. Answer briefly.",
            tuple(story),
            SamplingParams(temperature=1.0, seed=5, max_tokens=120),
        )
        text = ""
        async for event in backend.generate(request):
            if isinstance(event, TextDelta):
                text += event.text
                chars[0] = len(text)
        return text

    async def short() -> str:
        while chars[0] < 120:  # well past the reply's first tokens
            await asyncio.sleep(0.01)
        first_at.append(chars[0])
        text, _ = await ask(backend, "p3", 1, [ChatMessage.of_text("user", "Say OK.")])
        return text

    shared, ok = await asyncio.gather(long(), short())
    assert ok
    assert backend.stats.get("pauses", 0) > pauses  # the long reply gave the model up
    assert shared == alone  # and went on with the same state, sampler and random draws


async def test_a_prompt_read_ahead_stops_for_a_recognition(backend: LlamaBackend) -> None:
    from openlive.models.scheduler import RECOGNITION

    await ask(backend, "ahead", 0, [ChatMessage.of_text("user", "Say OK.")], max_tokens=2)
    text = " ".join(f"Item {i} is a thing worth remembering." for i in range(30))  # ~300 tokens
    history = [ChatMessage.of_text("user", text + " Which item number comes first?")]
    system = "You are a helpful assistant. Answer briefly."  # as ask() sends it
    request = GenerationRequest("ahead", 1, system, tuple(history))
    stopped = backend.stats.get("prefills_stopped", 0)
    read_before = backend.stats.get("prefilled_tokens", 0)
    prefill = asyncio.create_task(backend.prefill(request))
    await asyncio.sleep(0.3)  # it holds the slot, a few tokens at a time
    assert not prefill.done()
    recognized = await backend.scheduler.run(lambda: "recognized", priority=RECOGNITION)
    assert recognized == "recognized"
    await prefill
    assert backend.stats["prefills_stopped"] == stopped + 1
    read = backend.stats["prefilled_tokens"] - read_before
    assert 0 < read < 250  # stopped part way through the prompt
    # the part read is kept: the reply reads only the rest
    _, done = await ask(backend, "ahead", 1, history, temperature=0.0)
    assert done.cached_tokens >= read
