"""The conversation in the OpenAI chat format, which remote engines take as it is and chat
templates of embedded models render: text and image parts as content, function calls as
``tool_calls``, function results as ``tool`` messages; declared functions as ``tools``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from ...session import (
    ChatMessage,
    FunctionCallPart,
    FunctionResponsePart,
    GenerationRequest,
    InlinePart,
    TextPart,
    ToolSpec,
)

__all__ = ["Describe", "chat_messages", "effective_tool_mode", "openai_tools"]

Describe = Callable[[InlinePart], str]
"""Turns an image part into text, for a model that reads no pixels (the vision stage)."""


def openai_tools(tools: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    """Declarations in the ``tools`` field's shape."""
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": t.parameters or {"type": "object", "properties": {}},
            },
        }
        for t in tools
    ]


def effective_tool_mode(request: GenerationRequest) -> str:
    """``ANY`` forces a call only when the conversation does not already end with function
    results: otherwise a model made to call again after every answer would never reply."""
    if not request.tools or request.tool_mode == "NONE":
        return "NONE"
    if request.tool_mode == "ANY" and ends_with_results(request.messages):
        return "AUTO"
    return request.tool_mode


def ends_with_results(messages: tuple[ChatMessage, ...]) -> bool:
    return bool(messages) and any(isinstance(p, FunctionResponsePart) for p in messages[-1].parts)


def chat_messages(
    system: str,
    messages: tuple[ChatMessage, ...],
    *,
    template: bool = False,
    describe: Describe | None = None,
) -> list[dict[str, Any]]:
    """The conversation as chat messages. For a text-only chat template (``template=True``)
    content is always a string (an attachment is named in it) and call arguments are objects,
    which templates write out themselves; for the HTTP API arguments are JSON strings."""
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "content": system})
    for message in messages:
        out.extend(_message(message, template, describe))
    return out


def _message(
    message: ChatMessage, template: bool, describe: Describe | None = None
) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, InlinePart):
            if not template and part.mime_type.startswith("image/"):
                url = f"data:{part.mime_type};base64,{base64.b64encode(part.data).decode()}"
                content.append({"type": "image_url", "image_url": {"url": url}})
            elif describe is not None and part.mime_type.startswith("image/"):
                content.append({"type": "text", "text": describe(part)})
            else:
                content.append({"type": "text", "text": f"[{part.mime_type} attachment]"})
        elif isinstance(part, FunctionCallPart):
            calls.append(
                {
                    "id": part.id or part.name,
                    "type": "function",
                    "function": {
                        "name": part.name,
                        "arguments": part.args if template else json.dumps(part.args),
                    },
                }
            )
        elif isinstance(part, FunctionResponsePart):
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": part.id or part.name,
                    "name": part.name,
                    "content": json.dumps(part.response),
                }
            )
    out: list[dict[str, Any]] = []
    if content or calls or not results:
        text = "".join(c.get("text", "") for c in content)
        if all(c["type"] == "text" for c in content) and not calls:
            out.append({"role": message.role, "content": text})
        else:
            entry: dict[str, Any] = {"role": message.role}
            if template:
                entry["content"] = text
            elif content:  # absent rather than null: some servers refuse null content
                entry["content"] = content
            if calls:
                entry["tool_calls"] = calls
            out.append(entry)
    return results + out  # tool messages follow the calls directly; attachments after
