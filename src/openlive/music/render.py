"""Renders note events to 48 kHz stereo 16-bit PCM with a General MIDI SoundFont.

The SoundFont is FluidR3_GM (Debian ``fluid-soundfont-gm``, MIT licence), played by
TinySoundFont (the ``tinysoundfont`` wheel, MIT). The sample data is loaded once per process and
shared: each :class:`Renderer` is a clone with its own voices and channels. One synthesizer runs
for the whole life of a stream: events are applied at their exact frame (a render call is split
at each event), so notes ring across chunk and bar boundaries without clicks.

``OPENLIVE_SOUNDFONT`` names another .sf2/.sf3 file.
"""

from __future__ import annotations

import heapq
import importlib
import math
import os
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from openlive.errors import ConfigError, EngineError
from openlive.music.compose import DRUMS, NoteEvent
from openlive.music.reverb import Reverb

__all__ = [
    "APT_PACKAGE",
    "DEFAULT_SOUNDFONT",
    "PIP_REQUIREMENT",
    "Renderer",
    "find_soundfont",
    "load_soundfont",
]

DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
APT_PACKAGE = "fluid-soundfont-gm"
PIP_REQUIREMENT = "tinysoundfont==0.3.7"

AGC_TARGET, AGC_MIN, AGC_MAX = 0.125, 0.5, 4.0
_SHELF = 16  # frames in the brightness shelf's moving average
_ON, _OFF, _PROGRAM = 2, 1, 0  # at one frame: programs first, then note-offs, then note-ons


def find_soundfont(path: str | os.PathLike[str] | None = None) -> Path:
    """The SoundFont to use: ``path``, else ``$OPENLIVE_SOUNDFONT``, else the Debian path of
    FluidR3_GM. Raises :class:`ConfigError` naming the apt package when it is missing."""
    chosen = Path(path or os.environ.get("OPENLIVE_SOUNDFONT") or DEFAULT_SOUNDFONT)
    if not chosen.is_file():
        raise ConfigError(
            f"no General MIDI SoundFont at {chosen}: install it with "
            f"`apt-get install {APT_PACKAGE}` (or set OPENLIVE_SOUNDFONT to a .sf2 file)"
        )
    return chosen


def _tsf() -> Any:
    try:
        return importlib.import_module("tinysoundfont._tinysoundfont")
    except ImportError as exc:
        raise ConfigError(
            f"the music generator needs TinySoundFont: pip install --no-deps {PIP_REQUIREMENT}"
        ) from exc


_load_lock = threading.Lock()


@lru_cache(maxsize=4)
def _load(path: str) -> Any:
    try:
        return _tsf().SoundFont(path)
    except (OSError, RuntimeError, ValueError) as exc:
        raise EngineError(f"cannot load the SoundFont {path}: {exc}") from exc


def load_soundfont(path: str | os.PathLike[str] | None = None) -> Any:
    """The shared, loaded SoundFont (loaded once per path; about 1 s and 450 MB for
    FluidR3_GM). Raises :class:`ConfigError` when the file or the renderer is missing."""
    resolved = str(find_soundfont(path))
    with _load_lock:
        return _load(resolved)


class Renderer:
    """A running synthesizer: schedule events at absolute frames, then :meth:`render` the
    stream chunk by chunk (interleaved stereo int16, little-endian)."""

    def __init__(
        self,
        soundfont: str | os.PathLike[str] | None = None,
        sample_rate: int = 48000,
        gain_db: float = -5.0,
        max_voices: int = 128,
    ) -> None:
        tsf = _tsf()
        self._synth: Any = tsf.SoundFont(load_soundfont(soundfont))
        self._synth.set_output(tsf.OutputMode.StereoInterleaved, sample_rate, gain_db)
        self._synth.set_max_voices(max_voices)
        self.sample_rate = sample_rate
        self._frame = 0
        self._queue: list[tuple[int, int, int, int, int, float]] = []
        self._seq = 0
        self._programs: dict[int, tuple[int, bool]] = {}
        self._sounding: dict[tuple[int, int], float] = {}  # (channel, key) -> its note's id
        self._power: float | None = None
        self._gain = 1.0
        self._tilt = 0.0
        self._history = np.zeros((_SHELF - 1, 2))
        self.tilt = 0.0
        self.reverb = Reverb(sample_rate)

    @property
    def frame(self) -> int:
        """Frames rendered so far (the position of the next chunk's first frame)."""
        return self._frame

    def _push(self, frame: int, kind: int, channel: int, key: int, value: float) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (max(frame, self._frame), kind, self._seq, channel, key, value))

    def program(self, frame: int, channel: int, program: int, drums: bool = False) -> None:
        """Select ``program`` (or drum kit) on ``channel`` from ``frame`` on."""
        self._push(frame, _PROGRAM, channel, program, 1.0 if drums else 0.0)

    def schedule(self, events: Iterable[NoteEvent]) -> None:
        """Queue notes (a note-off at ``frame + length``; none for drums or length 0)."""
        for event in events:
            self._push(event.frame, _ON, event.channel, event.key, event.velocity)
            if event.length > 0 and event.channel != DRUMS:
                # the off names its note, so it never cuts a later note on the same key
                self._push(event.frame + event.length, _OFF, event.channel, event.key, self._seq)

    def release_all(self) -> None:
        """Drop every queued event and release the sounding notes (they fade out naturally)."""
        self._queue.clear()
        self._sounding.clear()
        self._synth.note_off()

    def _apply(self, kind: int, channel: int, key: int, value: float, note: int) -> None:
        if kind == _PROGRAM:
            drums = value > 0.5
            if self._programs.get(channel) != (key, drums):
                self._programs[channel] = (key, drums)
                self._synth.channel_set_preset_number(channel, key, drums)
        elif kind == _OFF:
            if self._sounding.get((channel, key)) == value:
                del self._sounding[(channel, key)]
                self._synth.channel_note_off(channel, key)
        elif channel in self._programs:
            self._synth.channel_note_on(channel, key, value)
            self._sounding[(channel, key)] = note

    def render(self, frames: int) -> bytes:
        """The next ``frames`` frames as interleaved stereo int16 PCM."""
        raw = bytearray(frames * 8)  # float32 stereo, filled by the synth
        view = memoryview(raw)
        done = 0
        end = self._frame + frames
        while done < frames:
            while self._queue and self._queue[0][0] <= self._frame:
                _, kind, note, channel, key, value = heapq.heappop(self._queue)
                self._apply(kind, channel, key, value, note)
            upto = min(end, self._queue[0][0]) if self._queue else end
            if upto > self._frame:
                span = upto - self._frame
                self._synth.render(view[done * 8 : (done + span) * 8])
                done += span
                self._frame = upto
        dry = np.frombuffer(raw, dtype=np.float32).reshape(frames, 2)
        mixed = self.reverb.process(dry).astype(np.float32).reshape(-1)
        samples = self._tilted(mixed, frames)
        pcm = np.tanh(samples * self._level(samples, frames)) * 32767.0
        return bytes(np.rint(pcm).astype("<i2").tobytes())

    def _tilted(self, samples: np.ndarray, frames: int) -> np.ndarray:
        """A high shelf for ``tilt``: ``y = x + t (x - avg16(x))``, the 16-frame moving
        average being the part below about 1.3 kHz; t > 0 brightens (treble x (1 + t)), t < 0
        darkens. t moves linearly across the chunk; the history carries over between chunks."""
        target = min(0.9, max(-0.9, float(self.tilt)))
        stereo = samples.reshape(frames, 2).astype(np.float64)
        extended = np.concatenate([self._history, stereo])
        self._history = extended[-(_SHELF - 1) :].copy()
        if target == 0.0 and self._tilt == 0.0:
            return samples
        sums = np.concatenate([np.zeros((1, 2)), np.cumsum(extended, axis=0)])
        average = (sums[_SHELF : _SHELF + frames] - sums[:frames]) / _SHELF
        ramp = np.linspace(self._tilt, target, frames, endpoint=False)
        self._tilt = target
        out: np.ndarray = (stereo + ramp[:, None] * (stereo - average)).astype(np.float32)
        return out.reshape(-1)

    def _level(self, samples: np.ndarray, frames: int) -> np.ndarray:
        """A slow automatic gain (time constant about 2 s, gain 0.5..4) toward a loudness of
        -18 dBFS RMS, so quiet and loud styles play at similar levels; the gain moves linearly
        across each chunk, so it never steps."""
        power = float(np.mean(np.square(samples, dtype=np.float64)))
        if power > 1e-7:
            if self._power is None:
                self._power = power
                self._gain = min(AGC_MAX, max(AGC_MIN, AGC_TARGET / math.sqrt(power)))
            keep = math.exp(-frames / (self.sample_rate * 2.0))
            self._power = keep * self._power + (1 - keep) * power
        target = self._gain
        if self._power is not None:
            target = min(AGC_MAX, max(AGC_MIN, AGC_TARGET / math.sqrt(self._power)))
        ramp = np.linspace(self._gain, target, frames, endpoint=False, dtype=np.float32)
        self._gain = target
        return np.repeat(ramp, 2)
