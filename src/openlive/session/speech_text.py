"""Cutting a streamed reply into pieces to speak, as early as sense allows."""

from __future__ import annotations

import re

__all__ = ["FIRST_PIECE_RULES", "clean_for_speech", "split_speakable"]

_END = re.compile(r"[.!?;:](?=\s)|\n")
_CLAUSE = re.compile(r",(?=\s)")
_WORD = re.compile(r"\S+")
_SNAKE = re.compile(r"(?<=[^\W_])_(?=[^\W_])")
_MARKUP = re.compile(r"[*_#`~>|]+|\[(.*?)\]\(.*?\)")
MAX_CHARS = 220

FIRST_PIECE_RULES = ("clause", "words", "sentence")
"""How the first piece of a reply is cut (the server's ``first_piece`` setting):

* ``clause`` (default): at the first comma or phrase boundary after ``FIRST_MIN_WORDS`` words
  (before a word such as *is*, *of*, *and*, *because*, never after an article or a
  preposition), at most ``FIRST_MAX_WORDS`` words;
* ``words``: at a comma after four words, or after four words;
* ``sentence``: at the end of the first sentence, like every later piece.
"""
FIRST_MIN_WORDS = 3
FIRST_MAX_WORDS = 6
FIRST_PIECE_WORDS = 4
"""The ``words`` rule: with no punctuation yet, the first piece is spoken after this many
words (and a comma ends it once it has this many)."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words a phrase starts with: the first piece may end just before one of them.
_PHRASE_STARTS = _words(
    "is are was were will would can could should may might must has have had do does did "
    "the a an of in on at to for from with by about into onto than and or but so because "
    "since as that which who whom whose where when while if although though until unless "
    "due like near over under upon after before between through during without"
)
# ...and must not end with one of these (it would leave the phrase hanging).
_HANGING = _PHRASE_STARTS | _words(
    "it its this these those my your our their his her very not no be been being there "
    "i we you they he she"
)


def clean_for_speech(text: str) -> str:
    """Drop markdown decoration the model may write (it is not meant to be read aloud)."""
    words = _SNAKE.sub(" ", text)  # turn_on_the_lights is read as words
    plain = _MARKUP.sub(lambda m: m.group(1) or "", words)
    return re.sub(r"\s+([.,!?;:])", r"\1", re.sub(r"\s+", " ", plain)).strip()


def split_speakable(buffer: str, first: bool, rule: str = "clause") -> tuple[list[str], str]:
    """Complete pieces of ``buffer`` and the rest still being written.

    Pieces end at sentence punctuation followed by a space, or a newline. The very first piece
    of a reply (``first``) is cut earlier under the ``clause`` and ``words`` rules (see
    :data:`FIRST_PIECE_RULES`), so speech starts sooner. A run with no boundary is cut at a
    space once it grows past ``MAX_CHARS``.
    """
    pieces: list[str] = []
    while True:
        match = _END.search(buffer)
        if first and not pieces and rule != "sentence":
            cut = _first_cut(buffer, None if match is None else match.start(), rule)
            if cut is not None:
                pieces.append(buffer[:cut])
                buffer = buffer[cut:].lstrip()
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


def _first_cut(buffer: str, sentence_end: int | None, rule: str) -> int | None:
    """Where the first piece of a reply ends before its first sentence does, if anywhere."""
    least = FIRST_MIN_WORDS if rule == "clause" else FIRST_PIECE_WORDS
    for clause in _CLAUSE.finditer(buffer):
        if sentence_end is not None and clause.start() > sentence_end:
            break
        if len(buffer[: clause.end()].split()) >= least:
            return clause.end()
    if sentence_end is not None:
        return None
    words = list(_WORD.finditer(buffer))
    if rule == "words":
        # the fourth word is complete once a fifth has begun
        if len(words) > FIRST_PIECE_WORDS:
            return words[FIRST_PIECE_WORDS - 1].end()
        return None
    # clause: after word i (complete, since word i + 1 has begun), before a phrase start
    names = [_bare(w.group()) for w in words]
    for i in range(FIRST_MIN_WORDS, min(FIRST_MAX_WORDS, len(words) - 1) + 1):
        if names[i - 1] not in _HANGING and names[i] in _PHRASE_STARTS:
            return words[i - 1].end()
    if len(words) > FIRST_MAX_WORDS:  # no boundary in sight: the longest run that does not hang
        for i in range(FIRST_MAX_WORDS, FIRST_MIN_WORDS - 1, -1):
            if names[i - 1] not in _HANGING:
                return words[i - 1].end()
        return words[FIRST_MAX_WORDS - 1].end()
    return None


def _bare(word: str) -> str:
    return re.sub(r"[^\w']", "", word).lower()
