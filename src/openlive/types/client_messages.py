"""Client → server messages of BidiGenerateContent (spec §4)."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator, model_validator

from ._base import WireModel
from .config import Setup, Tool
from .content import Blob, Content, FunctionResponse

__all__ = [
    "ActivityEnd",
    "ActivityStart",
    "ClientContent",
    "ClientMessage",
    "ContextUpdate",
    "RealtimeInput",
    "ToolResponse",
]


class ClientContent(WireModel):
    """Turns appended to the conversation; ``turn_complete`` asks the model to answer."""

    turns: list[Content] | None = None
    turn_complete: bool | None = None

    @field_validator("turns", mode="before")
    @classmethod
    def _loose_turns(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [value]
        if isinstance(value, str):
            return [{"role": "user", "parts": [{"text": value}]}]
        return value


class ActivityStart(WireModel):
    pass


class ActivityEnd(WireModel):
    pass


class RealtimeInput(WireModel):
    """Streamed input: audio, video frames, text, activity markers."""

    media_chunks: list[Blob] | None = None
    audio: Blob | None = None
    video: Blob | None = None
    text: str | None = None
    activity_start: ActivityStart | None = None
    activity_end: ActivityEnd | None = None
    audio_stream_end: bool | None = None


class ToolResponse(WireModel):
    function_responses: list[FunctionResponse] | None = None

    @field_validator("function_responses", mode="before")
    @classmethod
    def _single(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


class ContextUpdate(WireModel):
    """Mid-session change of the system instruction and/or tools (SDK 3.x)."""

    system_instruction: Content | None = None
    tools: list[Tool] | None = None

    @field_validator("tools", mode="before")
    @classmethod
    def _unwrap_tools(cls, value: Any) -> Any:
        # Python sends {"tools": {"tools": [...]}}, JS 2.32 sent {"tools": {}} for "none".
        if isinstance(value, dict):
            return value.get("tools", [])
        return value


_MESSAGE_FIELDS = ("setup", "client_content", "realtime_input", "tool_response", "context_update")
"""ClientMessage's fields (read on every frame: a tuple costs less than ``model_fields``)."""


class ClientMessage(WireModel):
    """Exactly one of the fields is set."""

    setup: Setup | None = None
    client_content: ClientContent | None = None
    realtime_input: RealtimeInput | None = None
    tool_response: ToolResponse | None = None
    context_update: ContextUpdate | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ClientMessage:
        present = [name for name in _MESSAGE_FIELDS if getattr(self, name) is not None]
        if len(present) != 1:
            known = "setup, clientContent, realtimeInput, toolResponse, contextUpdate"
            if not present:
                raise ValueError(f"message has none of the known fields ({known})")
            raise ValueError(f"message sets {len(present)} fields ({', '.join(present)}); send one")
        return self

    @property
    def kind(self) -> str:
        for name in _MESSAGE_FIELDS:
            if getattr(self, name) is not None:
                return name
        return ""
