"""Cutting a streamed reply into spoken pieces: where the first piece ends, and transcripts
that read as the reply."""

from __future__ import annotations

import re

import pytest

from openlive.session import (
    FinishSpeech,
    GenerationDone,
    LiveSession,
    Send,
    Speak,
    SpeechReady,
    StartGeneration,
    TextDelta,
)
from openlive.session.speech_text import FIRST_PIECE_RULES, clean_for_speech, split_speakable
from openlive.types import ClientMessage, Setup

REPLIES = [
    "The capital of France is Paris.",
    "There are 7 days in a week.",
    "Two plus two equals four.",
    "The largest ocean is the Pacific Ocean.",
    "The sky is blue due to the scattering of light by tiny particles in the atmosphere.",
    "The moon is a natural satellite of Earth, orbiting at about 384,400 kilometers.",
    "Yes, Paris is the capital of France. It is lovely.\nAsk me more!",
    "Well, once upon a time, there was a king.",
    "**Paris** is the `capital`, of course.  It is big.",
    "Banana",
]


def tokens(text: str) -> list[str]:
    """Roughly how an LLM streams: words with their leading space, punctuation apart."""
    return re.findall(r"\s*[\w']+|\s*[^\w\s]", text)


def stream(reply: str, rule: str) -> list[tuple[int, str]]:
    """(tokens seen, piece) for each piece, as the session cuts a streamed reply."""
    buffer, out = "", []
    for k, token in enumerate(tokens(reply), 1):
        buffer += token
        pieces, buffer = split_speakable(buffer, not out, rule)
        out += [(k, p) for p in pieces]
    if rest := clean_for_speech(buffer):
        out.append((len(tokens(reply)) + 1, rest))
    return out


@pytest.mark.parametrize("rule", FIRST_PIECE_RULES)
@pytest.mark.parametrize("reply", REPLIES)
def test_pieces_joined_read_as_the_reply(rule: str, reply: str) -> None:
    pieces = [p for _, p in stream(reply, rule)]
    assert " ".join(pieces) == clean_for_speech(reply)
    assert all(p == p.strip() and p for p in pieces)


def test_first_piece_is_a_short_clause() -> None:
    first = {r: stream(r, "clause")[0][1] for r in REPLIES}
    assert first["The capital of France is Paris."] == "The capital of France"
    assert first["The largest ocean is the Pacific Ocean."] == "The largest ocean"
    assert first["There are 7 days in a week."] == "There are 7 days"
    # no phrase boundary before the sentence ends: the sentence, not "Two plus two equals"
    assert first["Two plus two equals four."] == "Two plus two equals four."
    assert first[REPLIES[4]] == "The sky is blue"
    assert first[REPLIES[5]] == "The moon is a natural satellite"  # not "...is a"
    assert first["Well, once upon a time, there was a king."] == "Well, once upon a time,"
    # later pieces are whole sentences
    assert [p for _, p in stream(REPLIES[6], "clause")][1:] == [
        "of France.",
        "It is lovely.",
        "Ask me more!",
    ]


def test_first_piece_comes_as_soon_as_its_boundary_is_written() -> None:
    # "The capital of France" is spoken once " is" is written (token 5), not at the end
    assert stream("The capital of France is Paris.", "clause")[0] == (5, "The capital of France")
    assert stream("The largest ocean is the Pacific Ocean.", "clause")[0][0] == 4
    # the sentence rule waits for the sentence; the words rule cuts after four words
    assert stream("The capital of France is Paris.", "sentence")[0][0] == 8
    assert stream("Two plus two equals four.", "words")[0] == (5, "Two plus two equals")


def test_a_run_with_no_boundary_is_cut_without_leaving_a_phrase_hanging() -> None:
    pieces, rest = split_speakable("one two three four five of the seven", True)
    assert pieces == ["one two three four five"] and rest == "of the seven"
    pieces, rest = split_speakable("alpha beta gamma delta the epsilon zeta", True)
    assert pieces == ["alpha beta gamma delta"] and rest == "the epsilon zeta"
    pieces, rest = split_speakable("alpha beta gamma delta epsilon zeta eta", True)
    assert pieces == ["alpha beta gamma delta epsilon zeta"] and rest == "eta"


def spoken_session(rule: str) -> tuple[LiveSession, int]:
    data = {
        "model": "models/x",
        "generationConfig": {"responseModalities": ["AUDIO"]},
        "outputAudioTranscription": {},
    }
    s = LiveSession.create("v", "x", Setup.model_validate(data), now=0.0)
    s.first_piece = rule
    s.start()
    question = {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True}
    actions = s.receive_client(ClientMessage.model_validate({"clientContent": question}), 0.0)
    (start,) = [a for a in actions if isinstance(a, StartGeneration)]
    return s, start.request.turn_id


@pytest.mark.parametrize("rule", FIRST_PIECE_RULES)
@pytest.mark.parametrize("reply", REPLIES)
def test_output_transcription_concatenated_reads_as_the_reply(rule: str, reply: str) -> None:
    s, turn = spoken_session(rule)
    spoken: list[str] = []
    now = 0.1
    for token in tokens(reply):
        now += 0.05
        spoken += [
            a.text for a in s.receive_engine(TextDelta(turn, token), now) if isinstance(a, Speak)
        ]
    done = s.receive_engine(GenerationDone(turn, 10, 10), now)
    spoken += [a.text for a in done if isinstance(a, Speak)]
    assert isinstance(done[-1], FinishSpeech)
    shown = ""
    for piece in spoken:
        for action in s.receive_engine(SpeechReady(turn, piece, 0.5), now):
            if isinstance(action, Send):
                sc = action.message.server_content
                assert sc is not None and sc.output_transcription is not None
                shown += sc.output_transcription.text or ""
    assert shown == clean_for_speech(reply)
