"""Function calls from an embedded model: the format, the grammar that makes them valid, and
the scanner that finds where they begin in a streamed reply.

Models trained in the Hermes/Qwen convention answer a call as
``<tool_call>\\n{"name": …, "arguments": {…}}\\n</tool_call>`` (several in a row for several
calls). The reply streams freely until the model opens ``<tool_call>``; from there decoding is
constrained by a GBNF grammar built from the declarations, so the name is always a declared
one and the arguments always satisfy that function's schema (types, required properties,
enums, no unknown properties). The core validates every call again before sending it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...session import FunctionCallPart, ToolSpec

__all__ = [
    "CALL_CLOSE",
    "CALL_LEADS",
    "CALL_OPEN",
    "MAX_CALLS",
    "MarkerScanner",
    "call_grammar",
    "grounded",
    "parse_calls",
    "parse_text_calls",
]

CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
CALL_LEADS = ["{", "```json", "```\n{", "[{", "<tool", "<function"]
"""Reply openings that are a call written the wrong way (see :class:`MarkerScanner`)."""
MAX_CALLS = 8
"""Calls one reply may make (the grammar stops there)."""


def call_schema(tool: ToolSpec) -> dict[str, Any]:
    """The JSON schema of one call to ``tool``: its name, then arguments that fit."""
    parameters = _closed(tool.parameters or {"type": "object", "properties": {}})
    return {
        "type": "object",
        "properties": {"name": {"const": tool.name}, "arguments": parameters},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """Objects without ``additionalProperties`` take no unknown properties (a small model
    otherwise invents some); nested schemas alike."""
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {
            k: _closed(v) if isinstance(v, dict) else v for k, v in out["properties"].items()
        }
        out.setdefault("additionalProperties", False)
    if isinstance(out.get("items"), dict):
        out["items"] = _closed(out["items"])
    for key in ("anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [_closed(s) if isinstance(s, dict) else s for s in out[key]]
    return out


def call_grammar(tools: tuple[ToolSpec, ...], max_calls: int = MAX_CALLS) -> str:
    """GBNF for what follows an opened ``<tool_call>\\n``: one call to a declared function,
    closed, then up to ``max_calls - 1`` more."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    schema: dict[str, Any] = {"oneOf": [call_schema(t) for t in tools]}
    if len(tools) == 1:
        schema = call_schema(tools[0])
    rules = json_schema_to_gbnf(json.dumps(schema))
    rules = re.sub(r"^root ::=", "call ::=", rules, count=1, flags=re.M)
    close = json.dumps("\n" + CALL_CLOSE)
    again = json.dumps("\n" + CALL_CLOSE + "\n" + CALL_OPEN + "\n")
    more = f"({again} call){{0,{max_calls - 1}}}" if max_calls > 1 else ""
    return f"root ::= call {more} {close}\n{rules}"


def parse_calls(text: str) -> tuple[FunctionCallPart, ...]:
    """The calls in constrained output (``{…}\\n</tool_call>\\n<tool_call>\\n{…}…``)."""
    calls = []
    for chunk in text.replace(CALL_OPEN, CALL_CLOSE).split(CALL_CLOSE):
        chunk = chunk.strip()
        if not chunk:
            continue
        try:
            data = json.loads(chunk)
        except ValueError:
            continue  # cut short by the token limit
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            args = data.get("arguments")
            calls.append(FunctionCallPart(data["name"], args if isinstance(args, dict) else {}))
    return tuple(calls)


class MarkerScanner:
    """Streamed text in, text safe to release out: holds back a tail that could be the start
    of a marker (``<tool_call>``, a stop sequence), and reports the first marker found.

    ``leads`` count only at the very start of the reply (after white space): a small model
    asked to call a function often writes the call as bare JSON (``{"name": …``) or in a
    fenced block instead of opening ``<tool_call>``. Such a start is reported as the first
    marker, so the call is written again under the grammar and no JSON reaches the user."""

    def __init__(self, markers: list[str], leads: list[str] | None = None) -> None:
        self.markers = [m for m in markers if m]
        self.leads = [m for m in leads or [] if m]
        self._held = ""
        self._released = False
        self.found: str | None = None
        self.rest = ""
        """The text from the marker on (a call written as text is parsed from it)."""

    def feed(self, text: str) -> str:
        """The part of ``held + text`` that is certainly not a marker's beginning; after a
        marker is found, ``found`` names it and nothing more is released."""
        if self.found is not None:
            return ""
        buffer = self._held + text
        if not self._released and self.leads:
            start = buffer.lstrip()
            if any(start.startswith(lead) for lead in self.leads):
                self.found = self.markers[0] if self.markers else self.leads[0]
                self._held = ""
                self.rest = buffer
                return ""
            if not start or any(lead.startswith(start) for lead in self.leads):
                self._held = buffer
                return ""
        first: tuple[int, str] | None = None
        for marker in self.markers:
            at = buffer.find(marker)
            if at >= 0 and (first is None or at < first[0]):
                first = (at, marker)
        if first is not None:
            self.found = first[1]
            self._held = ""
            self.rest = buffer[first[0] :]
            return buffer[: first[0]]
        keep = 0
        for marker in self.markers:
            for size in range(min(len(marker) - 1, len(buffer)), 0, -1):
                if buffer.endswith(marker[:size]):
                    keep = max(keep, size)
                    break
        self._held = buffer[len(buffer) - keep :] if keep else ""
        released = buffer[: len(buffer) - keep]
        self._released = self._released or bool(released)
        return released

    def flush(self) -> str:
        """What is still held when the stream ends without a marker."""
        held, self._held = self._held, ""
        return "" if self.found is not None else held


def parse_text_calls(text: str) -> tuple[FunctionCallPart, ...]:
    """Calls a model wrote as text without a grammar (``<tool_call>`` blocks, fenced or bare
    JSON): every JSON object in ``text`` with a ``name`` and ``arguments`` (or
    ``parameters``). Whether each is valid is for the core to decide."""
    decoder = json.JSONDecoder()
    calls: list[FunctionCallPart] = []
    at = text.find("{")
    while at >= 0:
        try:
            data, end = decoder.raw_decode(text, at)
        except ValueError:
            at = text.find("{", at + 1)
            continue
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            args = data.get("arguments", data.get("parameters", {}))
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except ValueError:
                    args = None
            if isinstance(args, dict):
                calls.append(FunctionCallPart(data["name"], args))
        at = text.find("{", end)
    return tuple(calls)


_NUMBER_WORDS = {
    **dict(
        enumerate(
            [
                "zero",
                "one",
                "two",
                "three",
                "four",
                "five",
                "six",
                "seven",
                "eight",
                "nine",
                "ten",
                "eleven",
                "twelve",
            ]
        )
    ),
    15: "fifteen",
    20: "twenty",
    30: "thirty",
    40: "forty",
    45: "forty-five",
    50: "fifty",
    60: "sixty",
    90: "ninety",
}


def grounded(call: FunctionCallPart, said: str) -> bool:
    """Whether the call takes something from what the user said: a call without arguments,
    or one with at least one argument whose value (a number, in digits or words; a word of
    three letters or more of a string) appears in ``said``. A small model offered functions
    tends to call one for anything ("How many legs does a spider have?" →
    ``get_weather(city="New York")``); such calls share nothing with the request."""
    values = list(_leaves(call.args))
    if not values:
        return True
    said = said.lower()
    for value in values:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            number = int(value) if float(value).is_integer() else value
            word = _NUMBER_WORDS.get(int(number), "\0") if isinstance(number, int) else "\0"
            if re.search(rf"(?<![\d.]){re.escape(str(number))}(?![\d])", said) or word in said:
                return True
        elif isinstance(value, str) and any(
            w in said for w in re.findall(r"[^\W_]{3,}", value.lower())
        ):
            return True
    return False


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]
