"""Server → client messages of BidiGenerateContent (spec §5)."""

from __future__ import annotations

from typing import Any

from ._base import WireModel
from .content import Content, FunctionCall

__all__ = [
    "GoAway",
    "ModalityTokenCount",
    "ServerContent",
    "ServerMessage",
    "SessionResumptionUpdate",
    "SetupComplete",
    "ToolCall",
    "ToolCallCancellation",
    "Transcription",
    "UsageMetadata",
    "VoiceActivity",
]


class SetupComplete(WireModel):
    session_id: str | None = None


class Transcription(WireModel):
    text: str | None = None
    finished: bool | None = None
    language_code: str | None = None


class ServerContent(WireModel):
    model_turn: Content | None = None
    generation_complete: bool | None = None
    turn_complete: bool | None = None
    interrupted: bool | None = None
    grounding_metadata: dict[str, Any] | None = None
    input_transcription: Transcription | None = None
    output_transcription: Transcription | None = None
    interim_input_transcription: Transcription | None = None
    """A partial transcript of what the user is saying (replaced by later ones)."""
    url_context_metadata: dict[str, Any] | None = None
    turn_complete_reason: str | None = None
    waiting_for_input: bool | None = None


class ToolCall(WireModel):
    function_calls: list[FunctionCall] = []


class ToolCallCancellation(WireModel):
    ids: list[str] = []


class GoAway(WireModel):
    time_left: str | None = None


class SessionResumptionUpdate(WireModel):
    new_handle: str | None = None
    resumable: bool | None = None
    last_consumed_client_message_index: str | None = None
    """An int64, so a decimal string in JSON (as the official API sends it)."""


class VoiceActivity(WireModel):
    voice_activity_type: str | None = None


class ModalityTokenCount(WireModel):
    modality: str
    token_count: int


class UsageMetadata(WireModel):
    prompt_token_count: int | None = None
    cached_content_token_count: int | None = None
    response_token_count: int | None = None
    tool_use_prompt_token_count: int | None = None
    thoughts_token_count: int | None = None
    total_token_count: int | None = None
    prompt_tokens_details: list[ModalityTokenCount] | None = None
    response_tokens_details: list[ModalityTokenCount] | None = None

    def to_vertex(self) -> dict[str, Any]:
        """Vertex AI's field names (``candidates…`` for the response side)."""
        wire = self.to_wire()
        if "responseTokenCount" in wire:
            wire["candidatesTokenCount"] = wire.pop("responseTokenCount")
        if "responseTokensDetails" in wire:
            wire["candidatesTokensDetails"] = wire.pop("responseTokensDetails")
        return wire


class ServerMessage(WireModel):
    """Exactly one of the content fields, plus optional ``usage_metadata``."""

    setup_complete: SetupComplete | None = None
    server_content: ServerContent | None = None
    tool_call: ToolCall | None = None
    tool_call_cancellation: ToolCallCancellation | None = None
    go_away: GoAway | None = None
    session_resumption_update: SessionResumptionUpdate | None = None
    voice_activity: VoiceActivity | None = None
    usage_metadata: UsageMetadata | None = None

    @property
    def text(self) -> str | None:
        """Text of the model turn in this message (thoughts skipped), or ``None``."""
        turn = self.server_content.model_turn if self.server_content else None
        if turn is None:
            return None
        texts = [p.text for p in turn.parts if p.text is not None and not p.thought]
        return "".join(texts) if texts else None

    @property
    def data(self) -> bytes | None:
        """Concatenated inline bytes (e.g. audio) of the model turn in this message, or ``None``."""
        turn = self.server_content.model_turn if self.server_content else None
        if turn is None:
            return None
        chunks = [p.inline_data.data for p in turn.parts if p.inline_data is not None]
        return b"".join(chunks) if chunks else None
