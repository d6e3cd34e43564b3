"""Turning voice-activity probabilities into the start and end of the user's speech.

Pure logic, fed one probability per 32 ms frame (512 samples at 16 kHz); it reads no clock and
counts time in frames. Settings follow ``realtimeInputConfig.automaticActivityDetection``:

* ``startOfSpeechSensitivity``: HIGH (default) starts on 64 ms of speech above 0.5; LOW needs
  160 ms above 0.6.
* ``endOfSpeechSensitivity``: HIGH (default) ends on silence below 0.35; LOW below 0.2 (so
  quiet speech keeps the turn open longer).
* ``silenceDurationMs`` (default 500): how long the silence must hold to end the turn.
* ``prefixPaddingMs`` (default 300): audio kept from before the detected start, so the first
  syllable is not cut.

The semantic rule (when the server has its end-of-turn model and the client sets no
``silenceDurationMs``): ``ask_ms`` into a silence the end-of-turn model is asked whether the
user has finished, and asked again every ``reask_ms`` while the silence holds; the turn ends as
soon as it says so (probability ≥ ``finish_threshold``), and at ``silence_ms`` (the cap) in
any case. The transcript taken early in the silence (speculative recognition, which the reply
is written from) is a second signal (``text_ends``): one that ends a sentence (``. ? !``)
counts as "finished" too, and one that stops on a word no utterance ends on ("a table for")
overrules the model's "finished" (``session.listening.dangles``, English only); a "finished"
waits for that transcript when it is on its way. A "finished" turn ends no sooner than
``floor_ms`` into the silence.
``endOfSpeechSensitivity`` chooses the rule: HIGH ends sooner (the model from a lower
probability, a shorter floor), LOW cuts less at a pause (the model alone, without the
transcript's word).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from pydantic import BaseModel

from ..types import Setup

__all__ = [
    "FRAME_MS",
    "SEMANTIC_ASK_MS",
    "SEMANTIC_CAP_MS",
    "SEMANTIC_FLOOR_MS",
    "SEMANTIC_HIGH_FLOOR_MS",
    "SEMANTIC_SENSITIVE_THRESHOLD",
    "SEMANTIC_THRESHOLD",
    "ActivityChange",
    "EndpointState",
    "Endpointer",
    "EndpointerSettings",
]

FRAME_MS = 32
SEMANTIC_ASK_MS = 160
"""How far into a silence the end-of-turn model is first asked."""
SEMANTIC_FLOOR_MS = 416
"""The shortest silence that ends a turn under the semantic rule: the pause between two
sentences ("I have a question. | What is ...?") is usually shorter, and so is a comma's
("Good morning, | how are you?")."""
SEMANTIC_HIGH_FLOOR_MS = 288
"""The floor with ``endOfSpeechSensitivity: END_SENSITIVITY_HIGH`` (sooner, and more often
between two sentences)."""
SEMANTIC_CAP_MS = 1200
"""The longest silence the semantic rule waits for (the model keeps saying "not finished")."""
SEMANTIC_THRESHOLD = 0.95
"""S = 160 ms, T = 0.95, floor 416 ms, C = 1200 ms, with the transcript taken 64 ms into the
silence as the second signal, chosen on the endpointing eval (benchmarks/RESULTS.md). With the
transcript's veto at a word no utterance ends on (stop 22 runs): 58 % of utterances paused
inside a clause cut at the pause (a fixed 500 ms silence: 92 %; without the veto: 83 %), 7 %
of complete ones (3 of 45, two sentences cut between them; fixed 500 ms: 0 %), a mean wait of
~520 ms after the last word (fixed 500 ms: 564 ms), p95 ~700 ms; the model alone at 0.8 with
a 288 ms floor, an earlier rule, waited ~640 ms on average and 1.28 s at p95."""
SEMANTIC_SENSITIVE_THRESHOLD = 0.8
"""The model's threshold when the client sets ``endOfSpeechSensitivity`` (HIGH: with the
transcript's signal too and the 288 ms floor, the quickest rule; LOW: the model alone, the
fewest cuts at a pause)."""


class ActivityChange(Enum):
    STARTED = "started"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class EndpointerSettings:
    start_threshold: float = 0.5
    start_frames: int = 2
    end_threshold: float = 0.35
    silence_ms: int = 500
    prefix_padding_ms: int = 300
    semantic: bool = False
    """The end-of-turn model decides; ``silence_ms`` is then the cap."""
    ask_ms: int = 160
    reask_ms: int = 192
    floor_ms: int = 0
    """Under the semantic rule, the shortest silence that ends a turn the model says is
    finished."""
    finish_threshold: float = 0.5
    text_ends: bool = False
    """Under the semantic rule, the transcript taken in a silence is a signal: one that ends a
    sentence says the user finished, one that stops mid-clause that they have not."""

    @classmethod
    def from_config(
        cls,
        start_sensitivity: str | None = None,
        end_sensitivity: str | None = None,
        silence_ms: int | None = None,
        prefix_padding_ms: int | None = None,
    ) -> EndpointerSettings:
        low_start = (start_sensitivity or "").endswith("LOW")
        low_end = (end_sensitivity or "").endswith("LOW")
        return cls(
            start_threshold=0.6 if low_start else 0.5,
            start_frames=5 if low_start else 2,
            end_threshold=0.2 if low_end else 0.35,
            silence_ms=500 if silence_ms is None else max(0, silence_ms),
            prefix_padding_ms=300 if prefix_padding_ms is None else max(0, prefix_padding_ms),
        )

    @classmethod
    def from_setup(cls, setup: Setup, semantic: bool = False) -> EndpointerSettings:
        """The settings of ``realtimeInputConfig.automaticActivityDetection`` (defaults when
        absent). ``semantic``: the server can run its end-of-turn model, which then decides
        unless the client set ``silenceDurationMs``."""
        ric = setup.realtime_input_config
        aad = ric.automatic_activity_detection if ric else None
        settings = cls()
        if aad is not None:
            settings = cls.from_config(
                aad.start_of_speech_sensitivity,
                aad.end_of_speech_sensitivity,
                aad.silence_duration_ms,
                aad.prefix_padding_ms,
            )
        if not semantic or (aad is not None and aad.silence_duration_ms is not None):
            return settings
        end = (aad.end_of_speech_sensitivity or "") if aad is not None else ""
        # HIGH: the model's "finished" counts from a lower probability; LOW: the transcript
        # does not count, the model decides alone (fewer cuts at a pause, longer waits)
        sensitive = end.endswith(("HIGH", "LOW"))
        threshold = SEMANTIC_SENSITIVE_THRESHOLD if sensitive else SEMANTIC_THRESHOLD
        return replace(
            settings,
            semantic=True,
            silence_ms=SEMANTIC_CAP_MS,
            ask_ms=SEMANTIC_ASK_MS,
            floor_ms=SEMANTIC_HIGH_FLOOR_MS if end.endswith("HIGH") else SEMANTIC_FLOOR_MS,
            finish_threshold=threshold,
            text_ends=not end.endswith("LOW"),
        )

    @property
    def silence_frames(self) -> int:
        return max(1, -(-self.silence_ms // FRAME_MS))

    @property
    def prefix_frames(self) -> int:
        return self.prefix_padding_ms // FRAME_MS


class EndpointState(BaseModel):
    """The endpointer's whole state (part of the session's JSON snapshot)."""

    speaking: bool = False
    frame: int = 0
    started_at: int = 0
    """Frame index where the current (or last) speech started."""
    last_voice: int = 0
    """Frame index of the last frame above the end threshold while speaking."""
    run: int = 0


class Endpointer:
    """Frame-by-frame speech state. :meth:`push` returns a change or ``None``. Its state lives
    in an :class:`EndpointState` it is given (or makes), so the session can snapshot it."""

    def __init__(
        self, settings: EndpointerSettings | None = None, state: EndpointState | None = None
    ) -> None:
        self.settings = settings or EndpointerSettings()
        self.state = state if state is not None else EndpointState()

    @property
    def speaking(self) -> bool:
        return self.state.speaking

    @property
    def started_at(self) -> int:
        return self.state.started_at

    @property
    def last_voice(self) -> int:
        return self.state.last_voice

    @property
    def frame(self) -> int:
        return self.state.frame

    def push(self, probability: float) -> ActivityChange | None:
        s, st = self.settings, self.state
        index = st.frame
        st.frame += 1
        if not st.speaking:
            st.run = st.run + 1 if probability >= s.start_threshold else 0
            if st.run >= s.start_frames:
                st.speaking = True
                st.started_at = index - s.start_frames + 1
                st.last_voice = index
                st.run = 0
                return ActivityChange.STARTED
            return None
        if probability >= s.end_threshold:
            st.last_voice = index
            return None
        if index - st.last_voice >= s.silence_frames:
            st.speaking = False
            return ActivityChange.ENDED
        return None

    def silence_frames(self) -> int:
        """Frames of silence since the last voiced frame (0 when not speaking)."""
        st = self.state
        return st.frame - 1 - st.last_voice if st.speaking else 0

    def force_end(self) -> bool:
        """End speech now (``audioStreamEnd``); True if speech was in progress."""
        st = self.state
        was = st.speaking
        st.speaking = False
        st.run = 0
        return was
