"""Whisper's repeats into the padding are dropped; people's own repeats are kept."""

from __future__ import annotations

import pytest

from openlive.models.speech.repeats import drop_repeats


@pytest.mark.parametrize(
    ("heard", "kept"),
    [
        # transcripts Whisper base gave on espeak-ng questions (benchmarks.voice_latency)
        ("What is 2 plus 2? What is 2 plus 2? What is", "What is 2 plus 2?"),
        ("What color is the sky? What color is the sky? What color", "What color is the sky?"),
        ("What is the largest ocean? What is the largest ocean?", "What is the largest ocean?"),
        ("Rotromo and Juliet. Rotromo and Juliet. Rotromo", "Rotromo and Juliet."),
        ("I'm a fruit and I'm yellow. I'm a fruit and I", "I'm a fruit and I'm yellow."),
        (
            "Send a message to Send a message to Send a message to Send",
            "Send a message to",
        ),
        (
            "How many lengths does a spider-half? How many lengths does a spider-",
            "How many lengths does a spider-half?",
        ),
    ],
)
def test_a_repeat_run_to_the_end_is_kept_once(heard: str, kept: str) -> None:
    assert drop_repeats(heard) == kept


@pytest.mark.parametrize(
    "text",
    [
        "",
        "What is the capital of France?",
        "My number is five five five, one two three four.",
        "No, no, no.",
        "one two one two",  # a block shorter than three words
        "I said go, go, go and then I said go, go, go again.",  # a repeat not at the end
        "Knock knock. Who's there?",
        "Tell me a joke. Tell me",  # too little said again to be sure
    ],
)
def test_speech_that_repeats_itself_otherwise_is_unchanged(text: str) -> None:
    assert drop_repeats(text) == text
