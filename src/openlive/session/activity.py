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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["FRAME_MS", "ActivityChange", "Endpointer", "EndpointerSettings"]

FRAME_MS = 32


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

    @property
    def silence_frames(self) -> int:
        return max(1, -(-self.silence_ms // FRAME_MS))

    @property
    def prefix_frames(self) -> int:
        return self.prefix_padding_ms // FRAME_MS


class Endpointer:
    """Frame-by-frame speech state. :meth:`push` returns a change or ``None``."""

    def __init__(self, settings: EndpointerSettings | None = None) -> None:
        self.settings = settings or EndpointerSettings()
        self.speaking = False
        self.frame = 0
        self.started_at = 0
        """Frame index where the current (or last) speech started."""
        self.last_voice = 0
        """Frame index of the last frame above the end threshold while speaking."""
        self._run = 0

    def push(self, probability: float) -> ActivityChange | None:
        s = self.settings
        index = self.frame
        self.frame += 1
        if not self.speaking:
            self._run = self._run + 1 if probability >= s.start_threshold else 0
            if self._run >= s.start_frames:
                self.speaking = True
                self.started_at = index - s.start_frames + 1
                self.last_voice = index
                self._run = 0
                return ActivityChange.STARTED
            return None
        if probability >= s.end_threshold:
            self.last_voice = index
            return None
        if index - self.last_voice >= s.silence_frames:
            self.speaking = False
            return ActivityChange.ENDED
        return None

    def silence_frames(self) -> int:
        """Frames of silence since the last voiced frame (0 when not speaking)."""
        return self.frame - 1 - self.last_voice if self.speaking else 0

    def force_end(self) -> bool:
        """End speech now (``audioStreamEnd``); True if speech was in progress."""
        was = self.speaking
        self.speaking = False
        self._run = 0
        return was
