"""Endpointing and speech splitting: pure logic, no models."""

from __future__ import annotations

from openlive.session import ActivityChange, Endpointer, EndpointerSettings
from openlive.session.speech_text import clean_for_speech, split_speakable


def run(endpointer: Endpointer, probs: list[float]) -> list[tuple[int, ActivityChange]]:
    out = []
    for i, p in enumerate(probs):
        change = endpointer.push(p)
        if change is not None:
            out.append((i, change))
    return out


def test_start_needs_consecutive_speech_and_end_needs_held_silence() -> None:
    e = Endpointer(EndpointerSettings(silence_ms=96))  # 3 frames
    probs = [0.1, 0.9, 0.2, 0.9, 0.9, 0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1]
    assert run(e, probs) == [(4, ActivityChange.STARTED), (11, ActivityChange.ENDED)]
    assert e.started_at == 3


def test_sensitivities_and_settings_from_config() -> None:
    low = EndpointerSettings.from_config("START_SENSITIVITY_LOW", "END_SENSITIVITY_LOW", 200, 40)
    assert low.start_frames == 5 and low.start_threshold == 0.6 and low.end_threshold == 0.2
    assert low.silence_frames == 7 and low.prefix_frames == 1
    e = Endpointer(low)
    assert run(e, [0.9] * 4) == []  # 128 ms is not enough for LOW start sensitivity
    assert run(e, [0.9]) == [(0, ActivityChange.STARTED)]
    assert run(e, [0.3] * 10) == []  # 0.3 still counts as voice under LOW end sensitivity
    default = EndpointerSettings.from_config()
    assert (default.silence_ms, default.prefix_padding_ms) == (500, 300)


def test_force_end() -> None:
    e = Endpointer()
    run(e, [0.9, 0.9])
    assert e.speaking and e.force_end() and not e.speaking
    assert not e.force_end()


def test_first_piece_may_end_at_a_comma() -> None:
    pieces, rest = split_speakable("Well, once upon a time, there was", first=True)
    assert pieces == ["Well, once upon a time,"] and rest == "there was"
    pieces, rest = split_speakable("Yes, it is. And more", first=False)
    assert pieces == ["Yes, it is."] and rest == "And more"


def test_pieces_wait_for_a_boundary_and_long_runs_are_cut() -> None:
    assert split_speakable("The value is 3.", first=False) == ([], "The value is 3.")
    assert split_speakable("The value is 3.5 today. Next", first=False) == (
        ["The value is 3.5 today."],
        "Next",
    )
    long = "word " * 80
    pieces, _ = split_speakable(long, first=False)
    assert pieces and all(len(p) <= 220 for p in pieces)


def test_identifiers_are_read_as_words() -> None:
    assert clean_for_speech("call get_weather now, __bold__") == "call get weather now, bold"


def test_markdown_is_not_read_aloud() -> None:
    assert clean_for_speech("**Paris** is the `capital`. [link](http://x)") == (
        "Paris is the capital. link"
    )
