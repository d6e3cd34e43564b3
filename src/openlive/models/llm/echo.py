"""The deterministic engine: for testing Live clients offline, and for exact protocol tests.

Behaviour (documented in docs/engines.md):

* the reply is ``echo: `` followed by the text of the last user turn (``echo: (nothing)`` when
  there is none), streamed in chunks of ``chunk_chars`` characters, ``delay`` seconds apart;
* usage counts whitespace-separated words: prompt = all history words, response = reply words;
* its context window is ``context_window`` words (``echo_context_window``, 4096): a prompt of
  more words fails with :class:`~openlive.errors.ContextOverflow` before anything is written
  (to test compression and overflow cheaply);
* a user text containing ``[[history]]`` is answered ``echo: history: `` and the earlier user
  texts of the prompt joined by `` | `` (what the model still sees of the conversation);
* a user text containing ``[[fail]]`` makes the engine fail after its first chunk (to test
  error handling); ``[[slow]]`` makes every chunk take one second (to test interruption);
* fault directives, for testing clients against the conditions hosted Live APIs produce:
  ``[[fault goaway S]]`` (goAway with S seconds left, then the connection ends),
  ``[[fault close CODE]]`` (close with CODE mid-reply), ``[[fault stall S]]`` (no output for
  S seconds), ``[[fault drop]]`` (the TCP connection is cut, no close frame); each is applied
  after the reply's first chunk, once per session and text on a node (a resumed client that
  sends the turn again gets its reply) (docs/faults.md);
* it honours cancellation between chunks, like every engine;
* a resumed reply (``continuation``) streams only what follows the text already delivered;
* input audio is only counted (``audio_chunks``, ``audio_bytes`` in ``/healthz``);
* function calls, when the session declares tools: each ``[[call NAME {json args}]]`` in the
  last user text becomes a call (several in one reply when there are several); a turn that
  ends with function results is answered ``echo: NAME returned {json}`` (``; `` between
  results) and never calls again. So a NON_BLOCKING call's continuation round answers the
  placeholder (``echo: NAME returned {"note": ..., "status": "started"}``), and its result,
  when it comes, gets a reply of its own.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

from ...errors import ContextOverflow, EngineError
from ...session import (
    ChatMessage,
    EngineEvent,
    Fault,
    FunctionCallPart,
    FunctionCalls,
    FunctionResponsePart,
    GenerationDone,
    GenerationRequest,
    TextDelta,
)
from .base import LLMBackend

__all__ = ["EchoBackend"]


class EchoBackend(LLMBackend):
    name = "echo"
    calls_tools = True

    def __init__(
        self, chunk_chars: int = 8, delay: float = 0.02, context_window: int = 4096
    ) -> None:
        self.chunk_chars = chunk_chars
        self.delay = delay
        self.context_window = context_window
        self.audio_chunks = 0
        self.audio_bytes = 0
        self._fired: dict[tuple[str, str], None] = {}

    def accept_audio(self, session_id: str, pcm: bytes, rate: int) -> None:
        """Only counts what it is given (the protocol benchmark measures everything before)."""
        self.audio_chunks += 1
        self.audio_bytes += len(pcm)

    async def generate(self, request: GenerationRequest) -> AsyncIterator[EngineEvent]:
        last = next((m.text for m in reversed(request.messages) if m.role == "user"), "")
        prompt = sum(len(m.text.split()) for m in request.messages) + len(request.system.split())
        if prompt > self.context_window:
            raise ContextOverflow(prompt, self.context_window)
        window = self.context_window
        calls = _calls(last) if request.tools else ()
        results = _results(request.messages)
        if calls and not results:
            yield FunctionCalls(request.turn_id, calls)
            yield GenerationDone(request.turn_id, prompt, 0, context_window=window)
            return
        reply = f"echo: {results or last or '(nothing)'}"
        if "[[history]]" in last and not results:
            said = [m.text for m in request.messages if m.role == "user" and m.text]
            reply = "echo: history: " + " | ".join(said[:-1])
        delay = 1.0 if "[[slow]]" in last else self.delay
        limit = request.params.max_tokens
        words = reply.split()
        if limit is not None and len(words) > limit:
            reply = " ".join(words[:limit])
        start = len(request.continuation) if reply.startswith(request.continuation) else 0
        for i in range(start, len(reply), self.chunk_chars):
            if i > start:
                await asyncio.sleep(delay)
            yield TextDelta(request.turn_id, reply[i : i + self.chunk_chars])
            if i == start and not request.continuation and self._first_time(request, last):
                for kind, value in _FAULT.findall(last):
                    yield Fault(request.turn_id, kind, float(value or 0))
            if "[[fail]]" in last:
                raise EngineError("echo engine failure injected by [[fail]]")
        yield GenerationDone(request.turn_id, prompt, len(reply.split()), context_window=window)

    def _first_time(self, request: GenerationRequest, text: str) -> bool:
        """Fault directives apply once per session and text on this node: a client that
        resumes and sends the same turn again gets its answer this time."""
        if not _FAULT.search(text):
            return False
        key = (request.session_id.split("~")[0], text)
        if key in self._fired:
            return False
        self._fired[key] = None
        while len(self._fired) > 4096:
            self._fired.pop(next(iter(self._fired)))
        return True

    def describe(self) -> dict[str, object]:
        return {
            "backend": self.name,
            "ready": True,
            "context_window": self.context_window,
            "audio_chunks": self.audio_chunks,
            "audio_bytes": self.audio_bytes,
        }


_FAULT = re.compile(r"\[\[fault (goaway|close|stall|drop)(?:\s+([0-9.]+))?\]\]")
_CALL = re.compile(r"\[\[call ([\w.\-]+)\s*(\{.*?\})?\]\]", re.S)


def _calls(text: str) -> tuple[FunctionCallPart, ...]:
    calls = []
    for name, raw in _CALL.findall(text):
        try:
            args = json.loads(raw) if raw else {}
        except ValueError:
            args = {"unparsed": raw}
        calls.append(FunctionCallPart(name, args if isinstance(args, dict) else {"value": args}))
    return tuple(calls)


def _results(messages: tuple[ChatMessage, ...]) -> str:
    """The function results the conversation ends with (answers may come in several
    messages), in the order they arrived."""
    answers: list[FunctionResponsePart] = []
    for message in reversed(messages):
        found = [p for p in message.parts if isinstance(p, FunctionResponsePart)]
        if not found:
            break
        answers[:0] = found
    return "; ".join(f"{p.name} returned {json.dumps(p.response, sort_keys=True)}" for p in answers)
