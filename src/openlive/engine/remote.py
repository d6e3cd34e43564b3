"""An OpenAI-compatible ``/v1/chat/completions`` endpoint as the LLM (vLLM, llama.cpp server,
Ollama, ...), streamed over server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ..errors import EngineError
from ..session import EngineEvent, GenerationDone, GenerationRequest, TextDelta
from .base import Capabilities, LLMBackend
from .openai_http import base_v1, client_headers

__all__ = ["RemoteBackend"]


class RemoteBackend(LLMBackend):
    name = "remote"
    capabilities = Capabilities(exact_token_counts=True)

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
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend({"role": m.role, "content": m.text} for m in request.messages)
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
        return body

    async def generate(self, request: GenerationRequest) -> AsyncIterator[EngineEvent]:
        url = f"{self.base_url}/chat/completions"
        usage: dict[str, Any] = {}
        pieces = 0
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
                    chunk = json.loads(data)
                    if chunk.get("usage"):
                        usage = chunk["usage"]
                    for choice in chunk.get("choices") or []:
                        delta = (choice.get("delta") or {}).get("content")
                        if delta:
                            pieces += 1
                            yield TextDelta(request.turn_id, delta)
        except httpx.HTTPError as exc:
            raise EngineError(f"remote LLM at {self.base_url} failed: {exc!r}") from exc
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
