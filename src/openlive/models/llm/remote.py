"""An OpenAI-compatible ``/v1/chat/completions`` endpoint as the LLM (vLLM, llama.cpp server,
Ollama, ...), streamed over server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ...errors import EngineError
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

__all__ = ["RemoteBackend"]


class RemoteBackend(LLMBackend):
    name = "remote"
    calls_tools = True

    def __init__(
        self,
        base_url: str,
        model: str = "default",
        api_key: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_v1(base_url)
        self.model = model
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
                    detail = (await response.aread()).decode(errors="replace")[:200]
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
        prompt = int(usage.get("prompt_tokens") or 0)
        output = int(usage.get("completion_tokens") or pieces)
        if not prompt:
            words = sum(len(m.text) for m in request.messages) + len(request.system)
            prompt = max(1, words // 4)
        yield GenerationDone(request.turn_id, prompt, output)

    async def close(self) -> None:
        await self._client.aclose()

    def describe(self) -> dict[str, object]:
        return {"backend": self.name, "url": self.base_url, "model": self.model, "ready": True}


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
