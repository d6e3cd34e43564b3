"""Would batch decoding let several voice sessions share the CPU? What one llama.cpp decode
step costs with 1, 2, 4 and 8 sequences in the batch (one new token each), on the embedded
model, against the baseline of decoding the same sequences one at a time, in the same run.

This measures the engine, not openlive: the embedded backend decodes one sequence at a time
(``models/llm/llama.py``); this is the figure that says what batching across sessions would
buy on this machine.

    python -m benchmarks.batch_decode [--steps 24] [--threads 2]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time
from typing import Any

import numpy as np

from benchmarks._common import machine, percentile
from openlive.models.llm.catalog import DEFAULT_LLM, llm_weights

PROMPTS = [
    "The capital of France is",
    "Three primary colours are",
    "A good breakfast includes",
    "The largest ocean on Earth is",
    "Romeo and Juliet was written by",
    "Water boils at a temperature of",
    "The red planet is called",
    "A leap year has a number of days equal to",
]


class Engine:
    """The model and one context holding ``n_seq`` sequences (llama.cpp's low-level API)."""

    def __init__(self, path: str, n_seq: int, threads: int) -> None:
        import llama_cpp as lc

        self.lc: Any = lc
        lc.llama_backend_init()
        params = lc.llama_model_default_params()
        self.model = lc.llama_model_load_from_file(path.encode(), params)
        self.vocab = lc.llama_model_get_vocab(self.model)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = 2048
        cparams.n_batch = 512
        cparams.n_ubatch = 512
        cparams.n_seq_max = n_seq
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.kv_unified = True
        self.ctx = lc.llama_init_from_model(self.model, cparams)
        self.n_vocab = lc.llama_vocab_n_tokens(self.vocab)
        self.batch = lc.llama_batch_init(512, 0, n_seq)

    def tokenize(self, text: str) -> list[int]:
        lc = self.lc
        raw = text.encode()
        out = (lc.llama_token * 256)()
        n = lc.llama_tokenize(self.vocab, raw, len(raw), out, 256, True, False)
        return list(out[:n])

    def decode(self, items: list[tuple[int, int, int]]) -> list[int]:
        """One llama_decode of ``(token, position, sequence)`` items, logits for each; the
        greedy next token of each."""
        b = self.batch
        for i, (token, pos, seq) in enumerate(items):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 1
        b.n_tokens = len(items)
        if self.lc.llama_decode(self.ctx, b) != 0:
            raise RuntimeError("llama_decode failed")
        out = []
        for i in range(len(items)):
            ptr = self.lc.llama_get_logits_ith(self.ctx, i)
            logits = np.ctypeslib.as_array(
                ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,)
            )
            out.append(int(logits.argmax()))
        return out

    def prefill(self, seq: int, tokens: list[int]) -> tuple[int, int]:
        """Read a prompt into ``seq``; its greedy next token and the next position."""
        b = self.batch
        for i, token in enumerate(tokens):
            b.token[i] = token
            b.pos[i] = i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 1 if i == len(tokens) - 1 else 0
        b.n_tokens = len(tokens)
        if self.lc.llama_decode(self.ctx, b) != 0:
            raise RuntimeError("llama_decode failed")
        ptr = self.lc.llama_get_logits_ith(self.ctx, len(tokens) - 1)
        logits = np.ctypeslib.as_array(
            ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,)
        )
        return int(logits.argmax()), len(tokens)

    def clear(self) -> None:
        self.lc.llama_memory_clear(self.lc.llama_get_memory(self.ctx), True)


def run(engine: Engine, k: int, steps: int, batched: bool) -> list[float]:
    """Decode ``steps`` tokens for each of ``k`` sequences; ms per step of all k."""
    engine.clear()
    state = [engine.prefill(s, engine.tokenize(PROMPTS[s])) for s in range(k)]
    times: list[float] = []
    for _ in range(steps):
        start = time.perf_counter()
        if batched:
            nexts = engine.decode([(tok, pos, s) for s, (tok, pos) in enumerate(state)])
        else:
            nexts = [engine.decode([(tok, pos, s)])[0] for s, (tok, pos) in enumerate(state)]
        times.append((time.perf_counter() - start) * 1000)
        state = [(n, pos + 1) for n, (_, pos) in zip(nexts, state, strict=True)]
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    began = time.monotonic()
    path = str(llm_weights(DEFAULT_LLM))
    engine = Engine(path, 8, args.threads)
    run(engine, 2, 4, True)  # warm-up
    print(
        f"llama.cpp decode steps, {DEFAULT_LLM}, {args.threads} threads ({machine()}); "
        "ms per step that gives every sequence one token:"
    )
    for k in (1, 2, 4, 8):
        one = run(engine, k, args.steps, batched=False)
        many = run(engine, k, args.steps, batched=True)
        p_one, p_many = percentile(one, 50), percentile(many, 50)
        print(
            f"  {k} sequence(s): one at a time p50 {p_one:6.1f} ms (p95 "
            f"{percentile(one, 95):6.1f}); in one batch p50 {p_many:6.1f} ms (p95 "
            f"{percentile(many, 95):6.1f}); batch / one-at-a-time {p_many / p_one:.2f}; "
            f"tokens/s per sequence {1000 / p_many:5.1f} batched vs {1000 / p_one:5.1f}"
        )
    print(f"  run took {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
