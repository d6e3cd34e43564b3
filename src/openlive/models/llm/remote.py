"""An OpenAI-compatible ``/v1/chat/completions`` endpoint as the LLM (vLLM, llama.cpp server,
Ollama, ...), streamed over server-sent events.

The endpoint's context window is ``context_window`` (the ``remote_context_window`` setting)
when set; otherwise it is learned from the endpoint's first context-length error, and
:data:`DEFAULT_CONTEXT_WINDOW` is assumed until then. A context-length error (HTTP 400 from
llama.cpp's server, llama-cpp-python's, vLLM, OpenAI) becomes :class:`ContextOverflow` with the
counts the message gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ...errors import ContextOverflow, EngineError
from ...session import (
    EngineEvent,
    FunctionCallPart,
    FunctionCalls,
    GenerationDone,
    GenerationRequest,
    TextDelta,
)
from ..openai_http import base_v1, client_headers
from .base import LLMBackend
from .chat import chat_messages, effective_tool_mode, openai_tools
from .toolcall import CALL_LEADS, CALL_OPEN, MarkerScanner, parse_text_calls

__all__ = ["DEFAULT_CONTEXT_WINDOW", "RemoteBackend", "context_overflow"]

DEFAULT_CONTEXT_WINDOW = 32768
"""Assumed for an endpoint whose window was neither configured nor learned from an error."""


class RemoteBackend(LLMBackend):
    name = "remote"
    calls_tools = True

    def __init__(
        self,
        base_url: str,
        model: str = "default",
        api_key: str | None = None,
        timeout: float = 60.0,
        context_window: int = 0,
    ) -> None:
        self.base_url = base_v1(base_url)
        self.model = model
        self.configured_window = context_window
        self.context_window = context_window or DEFAULT_CONTEXT_WINDOW
        self._client = httpx.AsyncClient(
            headers=client_headers(api_key), timeout=httpx.Timeout(timeout, connect=5.0)
        )

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        messages = chat_messages(request.system, request.messages)
        p = request.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        optional = {
            "temperature": p.temperature,
            "top_p": p.top_p,
            "top_k": p.top_k,
            "max_tokens": p.max_tokens,
            "seed": p.seed,
            "presence_penalty": p.presence_penalty,
            "frequency_penalty": p.frequency_penalty,
            "stop": list(p.stop) or None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        mode = effective_tool_mode(request)
        if mode != "NONE":
            body["tools"] = openai_tools(request.tools)
            body["tool_choice"] = "required" if mode == "ANY" else "auto"
        if request.continuation:
            # the reply was partly delivered: the engine continues the assistant's message
            messages.append({"role": "assistant", "content": request.continuation})
            body["continue_final_message"] = True
            body["add_generation_prompt"] = False
        return body

    async def generate(self, request: GenerationRequest) -> AsyncIterator[EngineEvent]:
        url = f"{self.base_url}/chat/completions"
        usage: dict[str, Any] = {}
        pieces = 0
        calls: dict[int, dict[str, str]] = {}
        # A server without a tool-call parser returns calls as text: held back, not spoken.
        offered = effective_tool_mode(request) != "NONE"
        scanner = MarkerScanner([CALL_OPEN] if offered else [], CALL_LEADS if offered else [])
        call_text = ""
        try:
            async with self._client.stream("POST", url, json=self._body(request)) as response:
                if response.status_code != 200:
                    body = (await response.aread()).decode(errors="replace")
                    overflow = context_overflow(response.status_code, body, self._prompt(request))
                    if overflow is not None:
                        if overflow.context_window and not self.configured_window:
                            self.context_window = overflow.context_window
                        raise overflow
                    detail = body[:200]
                    raise EngineError(f"remote LLM answered HTTP {response.status_code}: {detail}")
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        raise EngineError(
                            f"remote LLM sent a stream event that is not JSON: {data[:80]!r}"
                        ) from None
                    if chunk.get("usage"):
                        usage = chunk["usage"]
                    for choice in chunk.get("choices") or []:
                        delta = choice.get("delta") or {}
                        if content := delta.get("content"):
                            pieces += 1
                            if scanner.found is not None:
                                call_text += content
                            else:
                                if text := scanner.feed(content):
                                    yield TextDelta(request.turn_id, text)
                                call_text = scanner.rest
                        for call in delta.get("tool_calls") or []:
                            _collect_call(calls, call)
        except httpx.HTTPError as exc:
            raise EngineError(f"remote LLM at {self.base_url} failed: {exc!r}") from exc
        found = _parse_calls(calls) if calls else parse_text_calls(call_text)
        if found:
            yield FunctionCalls(request.turn_id, found)
        elif rest := (call_text or scanner.flush()):
            yield TextDelta(request.turn_id, rest)  # it looked like a call but was not one
        prompt = int(usage.get("prompt_tokens") or 0) or self._prompt(request)
        output = int(usage.get("completion_tokens") or pieces)
        yield GenerationDone(request.turn_id, prompt, output, context_window=self.context_window)

    @staticmethod
    def _prompt(request: GenerationRequest) -> int:
        """The prompt's size when the endpoint does not count it: a character in four."""
        chars = sum(len(m.text) for m in request.messages) + len(request.system)
        return max(1, chars // 4)

    async def close(self) -> None:
        await self._client.aclose()

    def describe(self) -> dict[str, object]:
        return {
            "backend": self.name,
            "url": self.base_url,
            "model": self.model,
            "ready": True,
            "context_window": self.context_window,
        }


_WINDOW = (
    r"maximum context length is (\d+)",  # vLLM, OpenAI, llama-cpp-python
    r"context window of (\d+)",
    r'"n_ctx"\s*:\s*(\d+)',  # llama.cpp server
    r"context (?:size|length) (?:is |of )?\(?(\d+)",
)
_PROMPT = (
    r'"n_prompt_tokens"\s*:\s*(\d+)',  # llama.cpp server
    r"\((\d+) in the messages",  # vLLM (older), llama-cpp-python
    r"request has (\d+) input tokens",  # vLLM
    r"messages resulted in (\d+) tokens",  # OpenAI
    r"prompt \(?(\d+) tokens",
    r"Requested tokens \((\d+)\)",
)
_OVERFLOW = re.compile(
    r"context.{0,20}(length|window|size)|exceed_context_size|n_ctx|too long", re.I | re.S
)


def context_overflow(status: int, body: str, estimate: int) -> ContextOverflow | None:
    """The :class:`ContextOverflow` an endpoint's error answer means, if it is one: HTTP 400
    (or 413) saying the context length, window or size is exceeded. ``estimate``: the prompt's
    size when the message does not give it."""
    if status not in (400, 413) or not _OVERFLOW.search(body):
        return None
    lowered = body.lower()
    if not any(w in lowered for w in ("exceed", "maximum", "too long", "reduce", "longer than")):
        return None

    def first(patterns: tuple[str, ...]) -> int:
        for pattern in patterns:
            if found := re.search(pattern, body, re.I):
                return int(found.group(1))
        return 0

    window = first(_WINDOW)
    prompt = first(_PROMPT) or estimate
    detail = body.strip().replace("\n", " ")[:160]
    return ContextOverflow(prompt, window, f"remote LLM: {detail}")


def _collect_call(calls: dict[int, dict[str, str]], delta: dict[str, Any]) -> None:
    """Streamed tool calls arrive in pieces, by index: the name once, the arguments in parts."""
    entry = calls.setdefault(int(delta.get("index") or 0), {"name": "", "arguments": ""})
    function = delta.get("function") or {}
    entry["name"] += function.get("name") or ""
    entry["arguments"] += function.get("arguments") or ""


def _parse_calls(calls: dict[int, dict[str, str]]) -> tuple[FunctionCallPart, ...]:
    parsed = []
    for _, entry in sorted(calls.items()):
        try:
            args = json.loads(entry["arguments"] or "{}")
        except ValueError:
            raise EngineError(
                f"remote LLM called {entry['name']} with arguments that are not JSON: "
                f"{entry['arguments'][:60]!r}"
            ) from None
        parsed.append(FunctionCallPart(entry["name"], args if isinstance(args, dict) else {}))
    return tuple(parsed)
