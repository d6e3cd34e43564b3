"""Loose inputs → wire messages: the shapes the seed examples and other SDKs use.

Configs and contents may be typed models or plain dicts (camelCase or snake_case); the flat
``LiveConnectConfig`` form (``temperature``, ``speech_config``… beside ``system_instruction``)
is folded into the ``setup`` message's ``generationConfig`` as the official SDKs do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..types import Blob, Content, FunctionResponse, Setup

__all__ = [
    "DEFAULT_AUDIO_MIME",
    "build_setup",
    "to_blob",
    "to_contents",
    "to_function_responses",
    "to_snake",
]

DEFAULT_AUDIO_MIME = "audio/pcm;rate=16000"

_GENERATION_KEYS = {
    "response_modalities",
    "speech_config",
    "temperature",
    "top_p",
    "top_k",
    "max_output_tokens",
    "candidate_count",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "stop_sequences",
    "media_resolution",
    "thinking_config",
    "enable_affective_dialog",
    "translation_config",
}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def to_snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    return value


def build_setup(model: str, config: Any = None) -> Setup:
    """The ``setup`` message for ``model`` and a (flat or nested) config."""
    data: dict[str, Any] = {}
    if config is not None:
        raw = _plain(config)
        if not isinstance(raw, Mapping):
            raise TypeError(
                f"config must be a mapping or a config model, not {type(config).__name__}"
            )
        generation: dict[str, Any] = {}
        for key, value in raw.items():
            snake = to_snake(key)
            if value is None or snake == "http_options":
                continue
            if snake in _GENERATION_KEYS:
                generation[snake] = _plain(value)
            elif snake == "generation_config":
                generation = {**{to_snake(k): v for k, v in _plain(value).items()}, **generation}
            else:
                data[snake] = _plain(value)
        if generation:
            data["generation_config"] = generation
    name = model if "/" in model else f"models/{model}"
    data["model"] = name
    return Setup.model_validate(data)


def _content(value: Any) -> Content:
    if isinstance(value, Content):
        return value
    if isinstance(value, str):
        return Content(role="user", parts=[{"text": value}])
    value = _plain(value)
    if isinstance(value, Mapping) and "parts" not in value and "text" in value:
        return Content(role="user", parts=[value])
    content = Content.model_validate(value)
    if content.role is None:
        content.role = "user"
    return content


def to_contents(turns: Any) -> list[Content]:
    """A string, part, content or list of them → a list of contents."""
    if turns is None:
        return []
    if isinstance(turns, str | Content | Mapping) or hasattr(turns, "model_dump"):
        return [_content(turns)]
    items = list(turns)
    if items and all(isinstance(t, str) for t in items):
        return [Content(role="user", parts=[{"text": t} for t in items])]
    return [_content(t) for t in items]


def to_blob(value: Any, default_mime: str = DEFAULT_AUDIO_MIME) -> Blob:
    """Bytes, a dict or a Blob → Blob; a missing MIME type becomes ``default_mime``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return Blob(mime_type=default_mime, data=bytes(value))
    blob = value if isinstance(value, Blob) else Blob.model_validate(_plain(value))
    if not blob.mime_type:
        blob = blob.model_copy(update={"mime_type": default_mime})
    return blob


def to_function_responses(value: Any) -> list[FunctionResponse]:
    if value is None:
        return []
    items: Iterable[Any] = [value] if isinstance(value, FunctionResponse | Mapping) else value
    return [
        v if isinstance(v, FunctionResponse) else FunctionResponse.model_validate(_plain(v))
        for v in items
    ]
