"""An OpenAI-compatible ``/v1/chat/completions`` endpoint as the LLM (vLLM, llama.cpp server,
Ollama, ...), streamed over server-sent events."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ...errors import EngineError
from ...session import (
    ChatMessage,
    EngineEvent,
    FunctionCallPart,
    FunctionCalls,
    FunctionResponsePart,
    GenerationDone,
    GenerationRequest,
    InlinePart,
    TextDelta,
    TextPart,
)
from ..openai_http import base_v1, client_headers
from .base import LLMBackend

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
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend(_message(m) for m in request.messages)
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
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters or {"type": "object", "properties": {}},
                    },
                }
                for t in request.tools
            ]
            if request.tool_mode == "ANY":
                body["tool_choice"] = "required"
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
                        if delta.get("content"):
                            pieces += 1
                            yield TextDelta(request.turn_id, delta["content"])
                        for call in delta.get("tool_calls") or []:
                            _collect_call(calls, call)
        except httpx.HTTPError as exc:
            raise EngineError(f"remote LLM at {self.base_url} failed: {exc!r}") from exc
        if calls:
            yield FunctionCalls(request.turn_id, _parse_calls(calls))
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


def _message(message: ChatMessage) -> dict[str, Any]:
    """A turn in the OpenAI chat format: text and image parts as content parts, function
    calls as ``tool_calls``, function results as ``tool`` messages."""
    content: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, InlinePart) and part.mime_type.startswith("image/"):
            url = f"data:{part.mime_type};base64,{base64.b64encode(part.data).decode()}"
            content.append({"type": "image_url", "image_url": {"url": url}})
        elif isinstance(part, FunctionCallPart):
            calls.append(
                {
                    "id": part.id or part.name,
                    "type": "function",
                    "function": {"name": part.name, "arguments": json.dumps(part.args)},
                }
            )
        elif isinstance(part, FunctionResponsePart):
            return {
                "role": "tool",
                "tool_call_id": part.id or part.name,
                "content": json.dumps(part.response),
            }
    if all(c["type"] == "text" for c in content) and not calls:
        return {"role": message.role, "content": "".join(c["text"] for c in content)}
    out: dict[str, Any] = {"role": message.role, "content": content or None}
    if calls:
        out["tool_calls"] = calls
    return out


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
