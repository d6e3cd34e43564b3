"""Whisper's best-known failure on short utterances: after the last word it reads the same
words again into the silence that pads the window ("What is 2 plus 2? What is 2 plus 2? What
is"), until the token limit cuts it. :func:`drop_repeats` keeps the words once."""

from __future__ import annotations

import re

__all__ = ["MIN_BLOCK_WORDS", "drop_repeats"]

MIN_BLOCK_WORDS = 3
"""Shorter repeats ("no, no", "five five five") are how people speak, and are kept."""

_WORD = re.compile(r"\S+")


def _key(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def drop_repeats(text: str) -> str:
    """``text`` without a run of repeats at its end: when its words from some point on are a
    block of at least :data:`MIN_BLOCK_WORDS` words followed, to the end, by the same words
    again (at least that many of them; the last time perhaps cut short), the block is kept
    once. Anything else is returned unchanged."""
    spans = [m.span() for m in _WORD.finditer(text)]
    keys = [_key(text[a:b]) for a, b in spans]
    n = len(keys)
    for start in range(n):
        # the words again, to the end: at least MIN_BLOCK_WORDS of them (not a whole block:
        # the limit often cuts the first repeat short)
        for size in range(MIN_BLOCK_WORDS, n - start - MIN_BLOCK_WORDS + 1):
            if keys[start + size] != keys[start]:
                continue  # (the repeat's first word is never its last: a quick no)
            block = keys[start : start + size]
            if not any(block):
                continue
            rest = keys[start + size :]
            last = len(rest) - 1  # the token limit may have cut the last word short
            if all(
                word == block[i % size] or (i == last and block[i % size].startswith(word))
                for i, word in enumerate(rest)
            ):
                return text[: spans[start + size - 1][1]].rstrip()
    return text
