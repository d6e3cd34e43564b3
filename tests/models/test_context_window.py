"""Engines and the context window: overflow detected before decoding (echo, embedded), a
remote endpoint's context-length error mapped, and a real conversation on a 512-token
embedded context that stays answerable with compression."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openlive.errors import ContextOverflow, EngineError
from openlive.models import EchoBackend, Scheduler
from openlive.models.llm.base import LLMBackend
from openlive.models.llm.llama import LlamaBackend
from openlive.models.llm.remote import context_overflow
from openlive.session import (
    Close,
    GenerationDone,
    GenerationFailed,
    GenerationRequest,
    LiveSession,
    Send,
    StartGeneration,
)
from openlive.types import ClientMessage, Setup


def request(*texts: str) -> GenerationRequest:
    from openlive.session import ChatMessage

    return GenerationRequest("sid", 1, "", tuple(ChatMessage.of_text("user", t) for t in texts))


async def test_echo_refuses_a_prompt_beyond_its_window_before_writing() -> None:
    echo = EchoBackend(delay=0, context_window=5)
    events = [e async for e in echo.generate(request("one two three"))]
    assert isinstance(events[-1], GenerationDone)
    assert events[-1].context_window == 5
    with pytest.raises(ContextOverflow) as info:
        async for _ in echo.generate(request("one two three", "four five six")):
            pytest.fail("nothing is written for a prompt that does not fit")
    assert (info.value.prompt_tokens, info.value.context_window) == (6, 5)


@pytest.mark.parametrize(
    ("body", "prompt", "window"),
    [
        (  # llama.cpp server
            '{"error":{"code":400,"message":"the request exceeds the available context size, '
            'try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,'
            '"n_ctx":4096}}',
            5000,
            4096,
        ),
        (  # llama-cpp-python's server, older vLLM
            '{"error":{"message":"This model\'s maximum context length is 512 tokens. However, '
            "you requested 1624 tokens (600 in the messages, 1024 in the completion). Please "
            'reduce the length of the messages or completion.","type":"invalid_request_error"}}',
            600,
            512,
        ),
        (  # vLLM
            '{"object":"error","message":"This model\'s maximum context length is 2048 tokens. '
            "However, your request has 3000 input tokens. Please reduce the length of the input "
            'messages.","type":"BadRequestError","code":400}',
            3000,
            2048,
        ),
    ],
)
def test_remote_context_length_errors_become_overflow(body: str, prompt: int, window: int) -> None:
    overflow = context_overflow(400, body, estimate=1)
    assert overflow is not None
    assert (overflow.prompt_tokens, overflow.context_window) == (prompt, window)
    assert isinstance(overflow, EngineError)


def test_other_remote_errors_are_not_overflow() -> None:
    assert context_overflow(400, '{"error": "unknown model"}', 1) is None
    assert context_overflow(500, "maximum context length is 10 tokens", 1) is None


# ---- the real model ----


async def converse(
    backend: LLMBackend, session: LiveSession, text: str, now: float
) -> tuple[str, list[Any]]:
    """One user turn through the core and the engine, as the runtime does it."""
    message = {
        "clientContent": {
            "turns": [{"role": "user", "parts": [{"text": text}]}],
            "turnComplete": True,
        }
    }
    pending = list(session.receive_client(ClientMessage.model_validate(message), now))
    seen: list[Any] = []
    reply = ""
    while pending:
        action = pending.pop(0)
        seen.append(action)
        if isinstance(action, Send):
            content = action.message.server_content
            if content is not None and content.model_turn is not None:
                reply += "".join(p.text or "" for p in content.model_turn.parts)
        if isinstance(action, StartGeneration):
            try:
                async for event in backend.generate(action.request):
                    pending += session.receive_engine(event, now)
            except EngineError as exc:
                pending += session.receive_engine(
                    GenerationFailed.of(action.request.turn_id, exc), now
                )
    return reply, seen


FILLER = (
    "Here is a long note about my week, please just acknowledge it briefly: on Monday I "
    "repaired the garden fence, painted two chairs, and sorted the old letters in the attic; "
    "on Tuesday I walked along the river, counted the boats, and bought bread at the market."
)


@pytest.mark.model
async def test_a_conversation_beyond_a_512_token_context_stays_answerable(
    gguf_path: Path,
) -> None:
    backend = LlamaBackend(Scheduler(threads=2), gguf_path, n_ctx=512, max_reply_tokens=48)
    try:
        setup = {
            "model": "x",
            "generationConfig": {
                "responseModalities": ["TEXT"],
                "temperature": 0.0,
                "maxOutputTokens": 40,
            },
            "systemInstruction": {"parts": [{"text": "You are a helpful assistant. Be brief."}]},
        }
        plain = LiveSession.create("plain", "x", Setup.model_validate(setup), now=0.0)
        compressed = LiveSession.create(
            "compressed",
            "x",
            Setup.model_validate({**setup, "contextWindowCompression": {}}),
            now=0.0,
        )
        for session in (plain, compressed):
            session.start()
        closes: list[Close] = []
        prompts: list[int] = []
        for i in range(9):  # about 75 tokens a turn
            for session in (plain, compressed):
                if session.state.closed:
                    continue
                _, seen = await converse(backend, session, f"Note {i + 1}. {FILLER}", i)
                closes += [a for a in seen if isinstance(a, Close) and session is plain]
                prompts += [
                    a.message.usage_metadata.prompt_token_count or 0
                    for a in seen
                    if isinstance(a, Send)
                    and a.message.usage_metadata is not None
                    and session is compressed
                ]
        # without compression the conversation outgrew the window: a clear close
        assert plain.state.closed
        (close,) = closes
        assert close.code == 1011
        assert "no longer fits the model's context window (512 tokens)" in close.reason
        # with it, the oldest notes went and every prompt fitted
        assert compressed.state.window.dropped_turns >= 1
        assert max(prompts) < 512
        await converse(backend, compressed, "Remember this: my cat is called Pickles.", 10)
        answer, seen = await converse(
            backend, compressed, "What is my cat called? Answer with the name only.", 11
        )
        assert not [a for a in seen if isinstance(a, Close)]
        assert "pickles" in answer.lower()
    finally:
        await backend.close()
