"""Frames ⇄ typed messages: decoding with clear errors, encoding within the 1 MiB client limit."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from ..errors import MAX_REASON_BYTES, InvalidArgument
from ..types import ClientMessage, Content, ServerContent, ServerMessage

__all__ = [
    "MAX_SERVER_MESSAGE",
    "decode_client_message",
    "encode_client_message",
    "encode_server_message",
    "split_message",
]

MAX_SERVER_MESSAGE = 1 << 20
"""The official Python client refuses frames of 1 MiB or more (websockets' default max_size)."""


def _describe(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    path = [to_camel(str(p)) if isinstance(p, str) else f"[{p}]" for p in err["loc"]]
    msg = str(err["msg"]).removeprefix("Value error, ")
    if not path:
        return f"invalid message: {msg}"
    text = f"invalid {'.'.join(path)}: {msg}"
    if len(text.encode()) > MAX_REASON_BYTES:  # keep the field's own name and the why
        text = f"invalid {'.'.join(path[-2:])}: {msg}"
    return text


def decode_client_message(frame: str | bytes) -> ClientMessage:
    """Parse one client frame; raise :class:`InvalidArgument` (1007) saying what is wrong."""
    try:
        return ClientMessage.model_validate_json(frame)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise InvalidArgument("frame is not valid JSON") from None
        if any(e["type"] == "model_type" and not e["loc"] for e in exc.errors()):
            raise InvalidArgument("frame must be a JSON object") from None
        raise InvalidArgument(_describe(exc)) from None


def encode_client_message(message: ClientMessage) -> str:
    """camelCase JSON with standard base64: what openlive's SDK sends."""
    return json.dumps(message.to_wire(), separators=(",", ":"))


def encode_server_message(message: ServerMessage, *, vertex: bool = False) -> str:
    """camelCase JSON, standard base64; usage metadata in Vertex's names on Vertex routes."""
    wire: dict[str, Any] = message.to_wire()
    if vertex and message.usage_metadata is not None:
        wire["usageMetadata"] = message.usage_metadata.to_vertex()
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False)


def split_message(
    message: ServerMessage, limit: int = MAX_SERVER_MESSAGE // 2
) -> list[ServerMessage]:
    """Split a model turn whose encoding would be too large into several messages.

    Parts are spread over messages; a single oversized text or inline-data part is cut into
    pieces. ``limit`` leaves room for base64 growth and JSON framing.
    """
    content = message.server_content
    turn = content.model_turn if content else None
    if turn is None or content is None:
        return [message]
    size = sum(
        len(p.text or "") * 4 + len(p.inline_data.data if p.inline_data else b"") * 2
        for p in turn.parts
    )
    if size < limit:
        return [message]
    pieces: list[ServerMessage] = []
    for part in turn.parts:
        for piece in _cut_part(part, limit):
            sc = ServerContent(model_turn=Content(role=turn.role, parts=[piece]))
            pieces.append(ServerMessage(server_content=sc))
    rest = content.model_copy(update={"model_turn": None})
    if rest.to_wire() or message.usage_metadata:
        pieces.append(ServerMessage(server_content=rest, usage_metadata=message.usage_metadata))
    return pieces


def _cut_part(part: Any, limit: int) -> list[Any]:
    if part.text is not None and len(part.text) * 4 >= limit:
        step = limit // 4
        return [
            part.model_copy(update={"text": part.text[i : i + step]})
            for i in range(0, len(part.text), step)
        ]
    if part.inline_data is not None and len(part.inline_data.data) * 2 >= limit:
        data = part.inline_data.data
        step = limit // 2
        return [
            part.model_copy(
                update={
                    "inline_data": part.inline_data.model_copy(update={"data": data[i : i + step]})
                }
            )
            for i in range(0, len(data), step)
        ]
    return [part]
