"""Shared machinery of the wire schema: the base model and the scalar types.

Wire rules (spec §2): keys are accepted in camelCase and snake_case at every level except
inside free-form maps (typed here as plain ``dict``), unknown keys are ignored, integers may
arrive as floats (``40.0``) or strings (``"25600"``), bytes arrive in either base64 alphabet
with or without padding. Output is camelCase with standard padded base64 and no nulls.
"""

from __future__ import annotations

import binascii
from typing import Annotated, Any

import pybase64
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

__all__ = ["Base64Bytes", "WireModel", "decode_base64", "encode_base64"]

_URLSAFE = bytes.maketrans(b"-_", b"+/")


def decode_base64(value: Any) -> bytes:
    """Decode standard or URL-safe base64, padded or not; raw ``bytes`` pass through."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if not isinstance(value, str):
        raise ValueError("expected a base64 string")
    try:  # standard padded base64, what every official client sends: SIMD, ~10x binascii
        return pybase64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        pass  # URL-safe, unpadded, or not base64 at all: said below
    raw = value.encode("ascii", errors="strict")
    if b"-" in raw or b"_" in raw:
        raw = raw.translate(_URLSAFE)
    missing = -len(raw) % 4
    if missing:
        raw += b"=" * missing
    try:
        return binascii.a2b_base64(raw, strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64 data: {exc}") from None


def encode_base64(data: bytes) -> str:
    """Standard, padded base64 (what every official client can decode)."""
    return pybase64.b64encode_as_string(data)


Base64Bytes = Annotated[
    bytes,
    BeforeValidator(decode_base64),
    PlainSerializer(encode_base64, return_type=str, when_used="json"),
]
"""Bytes that travel as base64 on the wire."""


class WireModel(BaseModel):
    """Base of every wire message: camelCase out, camel or snake in, unknown keys ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )

    def to_wire(self) -> dict[str, Any]:
        """The camelCase JSON-ready dict of this model, without unset (``None``) fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
