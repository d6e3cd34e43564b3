"""Content, parts and blobs (spec §4.2): the conversation's building blocks."""

from __future__ import annotations

from typing import Any, Literal

from ._base import Base64Bytes, WireModel

__all__ = [
    "Blob",
    "CodeExecutionResult",
    "Content",
    "ExecutableCode",
    "FileData",
    "FunctionCall",
    "FunctionResponse",
    "Part",
]


class Blob(WireModel):
    """Inline bytes with a MIME type (audio chunk, image frame, ...)."""

    mime_type: str | None = None
    data: Base64Bytes = b""
    display_name: str | None = None


class FileData(WireModel):
    mime_type: str | None = None
    file_uri: str = ""
    display_name: str | None = None


class FunctionCall(WireModel):
    id: str | None = None
    name: str = ""
    args: dict[str, Any] | None = None


class FunctionResponse(WireModel):
    id: str | None = None
    name: str = ""
    response: dict[str, Any] | None = None
    will_continue: bool | None = None
    scheduling: str | None = None
    parts: list[dict[str, Any]] | None = None


class ExecutableCode(WireModel):
    language: str | None = None
    code: str = ""


class CodeExecutionResult(WireModel):
    outcome: str | None = None
    output: str | None = None


class Part(WireModel):
    """One piece of a turn: text, inline bytes, a file reference, a function call or result."""

    text: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    executable_code: ExecutableCode | None = None
    code_execution_result: CodeExecutionResult | None = None
    thought: bool | None = None
    thought_signature: str | None = None


class Content(WireModel):
    """A turn of the conversation."""

    role: Literal["user", "model", "system", "function", "tool"] | None = None
    parts: list[Part] = []

    @property
    def text(self) -> str:
        """The concatenated text of the non-thought text parts."""
        return "".join(p.text for p in self.parts if p.text and not p.thought)
