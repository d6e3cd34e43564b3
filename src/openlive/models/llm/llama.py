"""The embedded LLM: a GGUF model on llama-cpp-python, run on the scheduler's threads.

* The model loads in the background at start-up; early requests wait for it.
* ``n_ctx`` defaults to the context length the model was trained with. A prompt that leaves
  less than :data:`REPLY_ROOM` tokens of it for the reply (or the reply cap, when smaller) is
  refused before decoding with :class:`ContextOverflow`; the session then compresses or
  closes (see ``openlive.session.window``). Nothing is dropped here.
* Per-session prompt state: after each turn the session's KV cache is saved (llama.cpp's
  sequence state, plus the tokens it holds); when another session used the model meanwhile it
  is restored, so a session's second turn does not re-read its system prompt and history.
  States are kept in a least-recently-used store bounded in bytes.
* Generation stops within a token of cancellation (the scheduler's stop event).
* Once its first :data:`FIRST_TOKENS` are out, a reply gives the model up between tokens when
  the scheduler says another job should have it (recognition, another reply's first tokens, or
  another long reply's turn): its KV state and sampler are kept and put back when it resumes,
  so it goes on exactly as if it had not been paused.
* The event loop never waits for the model: ``forget`` only queues the session id, and the
  compute thread drops its state before its next use of the store (and never saves state for
  a session forgotten meanwhile). Closing frees the model on the compute thread.
"""

from __future__ import annotations

import asyncio
import codecs
import ctypes
import json
import queue
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ContextOverflow, EngineError
from ...session import (
    ChatMessage,
    EngineEvent,
    FunctionCallPart,
    FunctionCalls,
    FunctionResponsePart,
    GenerationDone,
    GenerationRequest,
    InlinePart,
    TextDelta,
    TextPart,
    ToolSpec,
)
from ...weights import WeightSpec
from ..scheduler import PAUSE, PREFILL, Scheduler
from .base import LLMBackend
from .chat import Describe, chat_messages, effective_tool_mode, openai_tools
from .constrained import decode_constrained
from .toolcall import (
    CALL_CLOSE,
    CALL_LEADS,
    CALL_OPEN,
    MarkerScanner,
    call_grammar,
    grounded,
    parse_calls,
)

if TYPE_CHECKING:
    from ..vision.service import Vision

__all__ = ["LlamaBackend"]

DEFAULT_SAMPLING = {"temperature": 0.7, "top_p": 0.8, "top_k": 20}
"""Used for parameters the client leaves unset (the recommended values for Qwen2.5 chat)."""
CALL_TEMPERATURE = 0.2
RESULT_TEMPERATURE = 0.2
"""The most a reply that reads function results samples at when the client set no temperature."""
FIRST_TOKENS = 16
"""Tokens a reply writes before it gives the model up to other sessions' work."""
PREFILL_STEP = 4
"""Tokens a prompt read ahead evaluates between looks at the compute queue: it stops for a
recognition or a reply within ~0.1 s (one batch of 14 tokens took 337 ms here, steps of 4
took 415 ms in all)."""
REPLY_ROOM = 64
"""Tokens of the context a prompt must leave for the reply (fewer when the cap is lower)."""
"""Ceiling on the temperature while a function call is written: arguments are data."""


@dataclass(slots=True)
class _SeqState:
    tokens: list[int]
    blob: bytes


class LlamaBackend(LLMBackend):
    name = "embedded"
    calls_tools = True

    def __init__(
        self,
        scheduler: Scheduler,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 0,
        max_reply_tokens: int = 1024,
        state_cache_bytes: int = 1 << 30,
        label: str = "embedded",
        weights: WeightSpec | None = None,
        grounding: bool = True,
    ) -> None:
        self.scheduler = scheduler
        self.model_path = Path(model_path) if model_path else None
        self.n_ctx = n_ctx
        self.max_reply_tokens = max_reply_tokens
        self.state_cache_bytes = state_cache_bytes
        self.label = label
        self.weights = weights
        self.grounding = grounding
        """Drop calls that share nothing with what the user said (see ``toolcall.grounded``)."""
        """Catalog weights to assemble when no ``model_path`` is given (default: the bundled)."""
        self._llm: Any = None
        self._formatter: Any = None
        self._load_task: asyncio.Task[None] | None = None
        self._load_error: BaseException | None = None
        self._states: OrderedDict[str, _SeqState] = OrderedDict()
        self._state_bytes = 0
        self._owner: str | None = None
        self._lock = threading.Lock()
        """Held by the compute thread while it uses the model; never taken on the loop."""
        self._forget: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._forgotten: deque[str] = deque(maxlen=4096)
        self._grammars: dict[str, str] = {}
        self._native_tools = False
        self.vision: Vision | None = None
        """Describes images for the model, which reads no pixels (set by the server)."""
        self.load_seconds: float | None = None
        self.stats = {"restores": 0, "saves": 0, "reused_tokens": 0, "evaluated_tokens": 0}

    # ---- loading ----

    async def start(self) -> None:
        if self._load_task is None:
            self._load_task = asyncio.create_task(self._load_async())

    async def _load_async(self) -> None:
        try:
            await self.scheduler.run(self._load, compute=False)
        except BaseException as exc:
            self._load_error = exc
            raise

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EngineError(
                "llama-cpp-python is not installed; run `pip install 'openlive[embedded]'`"
            ) from exc
        path = self.model_path
        if path is None:
            from ...weights import ensure_weights
            from .catalog import DEFAULT_LLM, llm_choice

            path = ensure_weights(self.weights or llm_choice(DEFAULT_LLM).weights)
        if not path.is_file():
            raise EngineError(f"model file {path} does not exist")
        llm = Llama(
            model_path=str(path),
            n_ctx=self.n_ctx,
            n_threads=self.scheduler.threads,
            n_threads_batch=self.scheduler.threads,
            n_batch=512,
            verbose=False,
        )
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise EngineError(f"{path.name} has no chat template; it cannot hold a conversation")
        eos = llm._model.token_get_text(llm.token_eos())
        bos_id = llm.token_bos()
        bos = llm._model.token_get_text(bos_id) if bos_id >= 0 else ""
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        # the template writes declarations and calls itself (Hermes/Qwen convention)
        self._native_tools = "tools" in template and CALL_OPEN in template
        self._llm = llm
        self.n_ctx = self.context_window = llm.n_ctx()
        self.load_seconds = time.perf_counter() - started

    async def ready(self) -> None:
        """Wait for the model; raise :class:`EngineError` if it failed to load."""
        if self._load_task is None:
            await self.start()
        assert self._load_task is not None
        try:
            await asyncio.shield(self._load_task)
        except Exception as exc:
            raise EngineError(f"the embedded model failed to load: {exc}") from exc

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    # ---- prompts ----

    def _format(
        self, request: GenerationRequest, messages: list[ChatMessage], tools: tuple[ToolSpec, ...]
    ) -> tuple[list[int], list[str]]:
        # with functions offered the template writes them, the calls and the results itself;
        # without, calls and results are written out as text (a small model shown its own
        # tool format tends to call again rather than answer)
        native = self._native_tools and bool(tools)
        system = request.system
        if tools and not native:
            system = (system + "\n\n" if system else "") + _tool_instructions(tools)
        describe = self._describer(request)
        chat = (
            chat_messages(system, tuple(messages), template=True, describe=describe)
            if native
            else _plain_chat(system, messages, describe)
        )
        extra: dict[str, Any] = {"tools": openai_tools(tools)} if native else {}
        result = self._formatter(messages=chat, **extra)
        # a reply that was partly delivered goes on from where it stopped
        prompt = result.prompt + request.continuation
        tokens: list[int] = self._llm.tokenize(
            prompt.encode(), add_bos=not result.added_special, special=True
        )
        stop = (
            result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        )
        return tokens, stop

    def _describer(self, request: GenerationRequest) -> Describe | None:
        """Images as the vision stage describes them (on this compute thread when they were
        not described ahead); without one, only named."""
        vision = self.vision
        if vision is None:
            return None
        resolution = request.media_resolution

        def describe(part: InlinePart) -> str:
            facts = vision.context(part.data, part.mime_type, resolution)
            return f"(The user shows you an image. What it contains:\n{facts}\nEnd of image.)\n"

        return describe

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode(), add_bos=False, special=False))

    def _prompt(
        self, request: GenerationRequest, reply: int, tools: tuple[ToolSpec, ...] = ()
    ) -> tuple[list[int], list[str]]:
        """Tokens of the prompt; :class:`ContextOverflow` when they leave too little of the
        context for the reply (the session decides what to drop, not the engine)."""
        tokens, stop = self._format(request, list(request.messages), tools)
        if len(tokens) + min(reply, REPLY_ROOM) > self.n_ctx:
            raise ContextOverflow(len(tokens), self.n_ctx)
        return tokens, stop

    # ---- per-session state ----

    def _switch_to(self, session_id: str) -> None:
        self._drop_forgotten()
        if self._owner == session_id:
            return
        state = self._states.get(session_id)
        if state is not None:
            self._restore(state)
            self._states.move_to_end(session_id)
            self.stats["restores"] += 1
        self._owner = session_id

    def _restore(self, state: _SeqState) -> None:
        import llama_cpp

        llm = self._llm
        ctx = llm._ctx.ctx
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
        buf = (ctypes.c_uint8 * len(state.blob)).from_buffer_copy(state.blob)
        read = llama_cpp.llama_state_seq_set_data(ctx, buf, len(state.blob), 0)
        if read == 0:
            llm.n_tokens = 0
            return
        n = len(state.tokens)
        llm.input_ids[:n] = state.tokens
        llm.n_tokens = n
        llm._requires_eval = True  # the logits were not restored: never sample from them

    def _snapshot(self) -> _SeqState:
        """The model's state as it is now: its KV cache and the tokens in it."""
        import llama_cpp

        llm = self._llm
        ctx = llm._ctx.ctx
        n = llm.n_tokens
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
        return _SeqState(tokens=llm.input_ids[:n].tolist(), blob=bytes(buf)[:written])

    def _save(self, session_id: str) -> None:
        self._drop_forgotten()
        if session_id in self._forgotten:
            return  # the session ended while this job ran
        state = self._snapshot()
        old = self._states.pop(session_id, None)
        if old is not None:
            self._state_bytes -= len(old.blob)
        self._states[session_id] = state
        self._state_bytes += len(state.blob)
        self.stats["saves"] += 1
        while self._state_bytes > self.state_cache_bytes and len(self._states) > 1:
            _, dropped = self._states.popitem(last=False)
            self._state_bytes -= len(dropped.blob)

    def forget(self, session_id: str) -> None:
        """Drop ``session_id``'s saved state. Called on the event loop: only queues the id."""
        self._forget.put(session_id)

    def _drop_forgotten(self) -> None:
        """On the compute thread: drop the states of forgotten sessions."""
        while True:
            try:
                session_id = self._forget.get_nowait()
            except queue.Empty:
                return
            self._forgotten.append(session_id)
            old = self._states.pop(session_id, None)
            if old is not None:
                self._state_bytes -= len(old.blob)
            if self._owner == session_id:
                self._owner = None

    # ---- generation ----

    async def generate(self, request: GenerationRequest) -> AsyncIterator[EngineEvent]:
        await self.ready()
        stream = self.scheduler.stream(
            lambda stop: self._run(request, stop), key=request.session_id
        )
        try:
            async for event in stream:
                yield event
        finally:
            await stream.aclose()  # frees the compute slot now, not when collected

    async def prefill(self, request: GenerationRequest) -> None:
        if not self.loaded:
            return
        await self.scheduler.run(lambda: self._prefill(request), priority=PREFILL)

    def _prefill(self, request: GenerationRequest) -> None:
        from llama_cpp import Llama

        with self._lock:
            llm = self._llm
            mode = effective_tool_mode(request)
            tools = request.tools if mode != "NONE" else ()
            try:
                tokens, _ = self._prompt(request, self.max_reply_tokens, tools)
            except ContextOverflow:
                return  # the reply will say so
            # the end (generation header, last words still changing) is left for the reply
            tokens = tokens[:-5] if len(tokens) > 5 else tokens
            self._switch_to(request.session_id)
            cached = Llama.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
            if cached >= len(tokens):
                return
            if cached < llm.n_tokens and not llm._ctx.kv_cache_seq_rm(-1, cached, -1):
                return
            llm.n_tokens = cached
            read = cached
            while read < len(tokens):  # a few tokens at a time: stop when needed elsewhere
                if self.scheduler.wanted_before(PREFILL):
                    self.stats["prefills_stopped"] = self.stats.get("prefills_stopped", 0) + 1
                    break
                llm.eval(tokens[read : read + PREFILL_STEP])
                read = llm.n_tokens
            self.stats["prefilled_tokens"] = self.stats.get("prefilled_tokens", 0) + read - cached
            self._save(request.session_id)

    def _run(self, request: GenerationRequest, stop: threading.Event) -> Iterator[EngineEvent]:
        """The reply: free text until the model opens a function call, then the calls under
        the declarations' grammar (``ANY``: calls from the first token)."""
        from llama_cpp import Llama

        with self._lock:
            llm = self._llm
            p = request.params
            reply = min(p.max_tokens or self.max_reply_tokens, self.n_ctx // 2)
            mode = effective_tool_mode(request)
            tools = request.tools if mode != "NONE" else ()
            tokens, template_stop = self._prompt(request, reply, tools)
            reply = min(reply, self.n_ctx - len(tokens))
            self._switch_to(request.session_id)
            if p.seed is not None:
                # Reusing cached tokens changes the evaluation batches, and with them the
                # last bits of the logits: a seeded request re-reads its prompt so the same
                # seed and prompt always give the same reply.
                llm.reset()
            cached = Llama.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
            self.stats["reused_tokens"] += cached
            self.stats["evaluated_tokens"] += len(tokens) - cached
            llm.set_seed(p.seed if p.seed is not None else random.randrange(2**31))
            sampling = self._sampling(request)
            written = ""
            generated = 0
            finish = "stop"
            calls: tuple[FunctionCallPart, ...] = ()
            kept = False
            try:
                opened = mode == "ANY"
                if not opened:
                    markers = ([CALL_OPEN] if tools else []) + [*template_stop, *p.stop]
                    leads = CALL_LEADS if tools and not request.continuation else []
                    written, generated, found = yield from self._write(
                        request, tokens, reply, markers, leads, sampling, stop
                    )
                    finish = "length" if generated >= reply and found is None else "stop"
                    opened = found == CALL_OPEN
                if opened and generated < reply and not stop.is_set():
                    ground = mode != "ANY" and self.grounding
                    calls, used = self._calls(
                        request, tokens, written, tools, reply - generated, stop, ground
                    )
                    generated += used
                    if calls and ground:
                        calls = self._grounded(request, calls)
                        if not calls and not written.strip():
                            # nothing the user said is in the calls: answer in words, from
                            # the conversation without the functions (a small model shown them
                            # talks about them); the state with them is what the session keeps
                            self._save(request.session_id)
                            kept = True
                            plain, plain_stop = self._prompt(request, reply, ())
                            _, used, _ = yield from self._write(
                                request,
                                plain,
                                reply - generated,
                                [*plain_stop, *p.stop],
                                [],
                                sampling,
                                stop,
                            )
                            generated += used
            finally:
                saved = self._states.get(request.session_id) if kept else None
                if saved is not None:
                    # back to the prompt with the functions: what this session (and any
                    # other declaring the same ones) reads next
                    self._restore(saved)
                elif not kept:
                    self._save(request.session_id)
            if stop.is_set():
                return
            if calls:
                yield FunctionCalls(request.turn_id, calls)
            yield GenerationDone(
                request.turn_id, len(tokens), generated, cached, finish, self.n_ctx
            )

    def _write(
        self,
        request: GenerationRequest,
        tokens: list[int],
        limit: int,
        markers: list[str],
        leads: list[str],
        sampling: dict[str, Any],
        stop: threading.Event,
    ) -> Generator[EngineEvent, None, tuple[str, int, str | None]]:
        """Free text after ``tokens``, streamed as it comes, up to the first marker (which is
        not released). Returns the text released, the tokens written and the marker found."""
        scanner = MarkerScanner(markers, leads)
        written = ""
        generated = 0
        since = time.monotonic()
        with closing(self._decode(tokens, limit, sampling, stop)) as pieces:
            for piece in pieces:
                generated += 1
                if text := scanner.feed(piece):
                    written += text
                    yield TextDelta(request.turn_id, text)
                if scanner.found is not None or stop.is_set():
                    break
                self.scheduler.yield_to_side()
                if generated >= FIRST_TOKENS and self.scheduler.preempt_wanted(
                    since, request.session_id
                ):
                    yield from self._pause(request.session_id)
                    since = time.monotonic()
        if scanner.found is None and not stop.is_set() and (rest := scanner.flush()):
            written += rest
            yield TextDelta(request.turn_id, rest)
        return written, generated, scanner.found

    def _pause(self, session_id: str) -> Generator[Any, None, None]:
        """Give the model up between two tokens of a reply (yield :data:`PAUSE`) and take it
        back as it was: the KV state, the tokens and the sampler (its random state and
        penalties) of the generation in progress."""
        llm = self._llm
        sampler = llm._sampler
        # a state of its own, not the session's saved one: that is what the session keeps
        # between turns (on the ungrounded-call path, the prompt with the functions)
        state = self._snapshot()
        self.stats["pauses"] = self.stats.get("pauses", 0) + 1
        self._lock.release()
        try:
            yield PAUSE
        finally:
            self._lock.acquire()
            self._drop_forgotten()
            n = llm.n_tokens
            # restored unless nothing touched the model meanwhile (another session's job, or
            # one of this session's own, such as a prefill, changes the tokens it holds)
            if self._owner != session_id or llm.input_ids[:n].tolist() != state.tokens:
                self._restore(state)
                self.stats["restores"] += 1
            self._owner = session_id
            llm._sampler = sampler

    def _calls(
        self,
        request: GenerationRequest,
        tokens: list[int],
        written: str,
        tools: tuple[ToolSpec, ...],
        limit: int,
        stop: threading.Event,
        ground: bool,
    ) -> tuple[tuple[FunctionCallPart, ...], int]:
        """The calls, written under the declarations' grammar after the text so far."""
        llm = self._llm
        p = request.params
        head = llm.tokenize((written + CALL_OPEN + "\n").encode(), add_bos=False, special=True)
        temperature = min(self._sampling(request)["temp"], CALL_TEMPERATURE)
        out = ""
        used = 0
        with closing(
            decode_constrained(
                llm,
                tokens + head,
                self._grammar(tools),
                limit=limit,
                temperature=temperature,
                seed=p.seed if p.seed is not None else random.randrange(2**31),
                stop=stop,
            )
        ) as pieces:
            seen = 0
            said = _said(request) if ground else ""
            for piece in pieces:
                used += 1
                out += piece
                if stop.is_set():
                    break
                if out.count(CALL_CLOSE) > seen:
                    # a call is complete: stop at once when it repeats an earlier one of
                    # this reply (the model is looping) or shares nothing with the request
                    seen = out.count(CALL_CLOSE)
                    calls = parse_calls(out)
                    last = calls[-1] if calls else None
                    if last is not None and (
                        last in calls[:-1] or (ground and not grounded(last, said))
                    ):
                        break
                self.scheduler.yield_to_side()
        return parse_calls(out), used

    def _grounded(
        self, request: GenerationRequest, calls: tuple[FunctionCallPart, ...]
    ) -> tuple[FunctionCallPart, ...]:
        """The calls that take something from what the user said (see :func:`grounded`)."""
        said = _said(request)
        kept = tuple(c for c in calls if grounded(c, said))
        self.stats["ungrounded_calls"] = (
            self.stats.get("ungrounded_calls", 0) + len(calls) - len(kept)
        )
        return kept

    def _sampling(self, request: GenerationRequest) -> dict[str, Any]:
        p = request.params
        values: dict[str, Any] = dict(DEFAULT_SAMPLING)
        for key in ("temperature", "top_p", "top_k"):
            value = getattr(p, key)
            if value is not None:
                values[key] = value
        last = request.messages[-1] if request.messages else None
        if (
            p.temperature is None
            and last
            and any(isinstance(x, FunctionResponsePart) for x in last.parts)
        ):
            # an answer read off function results: at the default temperature the small model
            # now and then writes about the call format instead of the results
            values["temperature"] = min(values["temperature"], RESULT_TEMPERATURE)
        return {
            "temp": values["temperature"],
            "top_p": values["top_p"],
            "top_k": values["top_k"],
            "min_p": 0.05,
            "presence_penalty": p.presence_penalty or 0.0,
            "frequency_penalty": p.frequency_penalty or 0.0,
        }

    def _decode(
        self,
        tokens: list[int],
        limit: int,
        sampling: dict[str, Any],
        stop: threading.Event,
    ) -> Generator[str, None, None]:
        """The text of each token the model writes after ``tokens`` (UTF-8 sequences split
        across tokens come out whole), until end of generation, ``limit`` tokens or ``stop``."""
        import llama_cpp

        llm = self._llm
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        count = 0
        with closing(llm.generate(tokens, reset=True, **sampling)) as stream:
            for token in stream:
                if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                    break
                count += 1
                yield decoder.decode(llm.detokenize([token], special=True))
                if count >= limit or stop.is_set():
                    break
        if tail := decoder.decode(b"", final=True):
            yield tail

    def _grammar(self, tools: tuple[ToolSpec, ...]) -> str:
        """The call grammar of a set of declarations (kept for the sets last used)."""
        key = json.dumps([[t.name, t.parameters] for t in tools], sort_keys=True)
        gbnf = self._grammars.pop(key, None) or call_grammar(tools)
        self._grammars[key] = gbnf
        while len(self._grammars) > 64:
            self._grammars.pop(next(iter(self._grammars)))
        return gbnf

    async def close(self) -> None:
        """Free the model and its saved states on the compute thread."""
        if self._load_task is not None and not self._load_task.done():
            self._load_task.cancel()
        if self._llm is None:
            return

        def free() -> None:
            with self._lock:
                llm, self._llm = self._llm, None
                self._states.clear()
                self._state_bytes = 0
                if llm is not None:
                    llm.close()

        await self.scheduler.run(free)

    def describe(self) -> dict[str, object]:
        return {
            "backend": self.name,
            "model": self.label,
            "ready": self.loaded,
            "loading": self._load_task is not None and not self._load_task.done(),
            "error": str(self._load_error) if self._load_error else None,
            "n_ctx": self.n_ctx,
            "sessions_cached": len(self._states),
        }


def _as_text(message: ChatMessage, describe: Describe | None = None) -> str:
    """A turn for a text-only chat template: images described (or named), audio named,
    function results written out (the calls that asked for them are left out)."""
    out: list[str] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            out.append(part.text)
        elif isinstance(part, InlinePart) and describe and part.mime_type.startswith("image/"):
            out.append(describe(part) + "\n")
        elif isinstance(part, InlinePart):
            out.append(f"[{part.mime_type} attachment]")
        elif isinstance(part, FunctionResponsePart):
            out.append(f"({part.name} result: {json.dumps(part.response)})")
        # a call is not written out: shown its own calls as text, a small model answers the
        # next turn by writing one more instead of using the results
    return "".join(out)


def _plain_chat(
    system: str, messages: list[ChatMessage], describe: Describe | None = None
) -> list[dict[str, str]]:
    """The conversation for a template without tool support: every turn as text, turns of
    the same role merged (some templates insist on alternating roles)."""
    chat: list[dict[str, str]] = []
    if system:
        chat.append({"role": "system", "content": system})
    for m in messages:
        text = _as_text(m, describe)
        if not text:
            continue  # a model turn that only called functions
        if chat and chat[-1]["role"] == m.role:
            chat[-1]["content"] += "\n" + text
        else:
            chat.append({"role": m.role, "content": text})
    return chat


def _tool_instructions(tools: tuple[ToolSpec, ...]) -> str:
    """Declarations and the call format, for a model whose template has no tool support."""
    listing = "\n".join(json.dumps(t) for t in openai_tools(tools))
    return (
        "You may call functions. Their signatures:\n"
        f"{listing}\n"
        "To call one, reply with "
        f'{CALL_OPEN}\n{{"name": <function name>, "arguments": <arguments object>}}\n'
        "</tool_call> (one such block per call)."
    )


def _said(request: GenerationRequest) -> str:
    """Everything the user said in the conversation (what a call's arguments come from)."""
    return " ".join(m.text for m in request.messages if m.role == "user")
