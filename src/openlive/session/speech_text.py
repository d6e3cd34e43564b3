"""Cutting a streamed reply into pieces to speak, as early as sense allows."""

from __future__ import annotations

import re

__all__ = ["clean_for_speech", "split_speakable"]

_END = re.compile(r"[.!?;:](?=\s)|\n")
_CLAUSE = re.compile(r",(?=\s)")
_SNAKE = re.compile(r"(?<=[^\W_])_(?=[^\W_])")
_MARKUP = re.compile(r"[*_#`~>|]+|\[(.*?)\]\(.*?\)")
MAX_CHARS = 220
FIRST_CLAUSE_WORDS = 4
FIRST_PIECE_WORDS = 4
"""With no punctuation yet, the first piece of a reply is spoken after this many words."""


def clean_for_speech(text: str) -> str:
    """Drop markdown decoration the model may write (it is not meant to be read aloud)."""
    words = _SNAKE.sub(" ", text)  # turn_on_the_lights is read as words
    plain = _MARKUP.sub(lambda m: m.group(1) or "", words)
    return re.sub(r"\s+([.,!?;:])", r"\1", re.sub(r"\s+", " ", plain)).strip()


def split_speakable(buffer: str, first: bool) -> tuple[list[str], str]:
    """Complete pieces of ``buffer`` and the rest still being written.

    Pieces end at sentence punctuation followed by a space, or a newline. The very first piece
    of a reply may also end at a comma after a few words, so speech starts sooner. A run with
    no boundary is cut at a space once it grows past ``MAX_CHARS``.
    """
    pieces: list[str] = []
    while True:
        match = _END.search(buffer)
        if first and not pieces:
            for clause in _CLAUSE.finditer(buffer):
                if match is not None and clause.start() > match.start():
                    break
                if len(buffer[: clause.end()].split()) >= FIRST_CLAUSE_WORDS:
                    match = clause
                    break
        if match is None and first and not pieces:
            words = buffer.split(" ")
            if len(words) > FIRST_PIECE_WORDS and all(words[: FIRST_PIECE_WORDS + 1]):
                head = " ".join(words[:FIRST_PIECE_WORDS])
                pieces.append(head)
                buffer = buffer[len(head) :].lstrip()
                continue
        if match is None:
            if len(buffer) > MAX_CHARS and " " in buffer[:MAX_CHARS]:
                cut = buffer.rindex(" ", 0, MAX_CHARS)
                pieces.append(buffer[:cut])
                buffer = buffer[cut + 1 :]
                continue
            break
        pieces.append(buffer[: match.end()])
        buffer = buffer[match.end() :].lstrip()
    return [p for p in (clean_for_speech(p) for p in pieces) if p], buffer
