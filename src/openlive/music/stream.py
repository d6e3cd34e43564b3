"""A music stream: the object a BidiGenerateMusic session drives.

:class:`MusicStream` turns weighted prompts and a :class:`~openlive.music.config.MusicConfig`
into an endless stream of fixed-size chunks of 48 kHz stereo 16-bit little-endian PCM
(:data:`MIME_TYPE`). :meth:`MusicStream.next_chunk` is synchronous and CPU-bound (about 2 % of a
core for real time): call it off the event loop. The control methods are thread-safe and may be
called between chunks from another thread; a prompt or config change is heard from the next bar.

Semantics the endpoint maps ``playbackControl`` onto: PLAY and PAUSE are the caller's pacing
(call or stop calling :meth:`next_chunk`; the stream resumes where it stopped); STOP is
:meth:`reset_context` plus not calling; RESET_CONTEXT is :meth:`reset_context`, which starts a
new context at once and is where ``bpm``, ``scale`` and ``seed`` changes take effect (they apply
at once only before the first bar). Until prompts are set the stream is silence.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence

from openlive.errors import InvalidArgument
from openlive.music.compose import Composer
from openlive.music.config import MusicConfig, validate
from openlive.music.render import Renderer
from openlive.music.styles import STYLES, Blend

__all__ = ["CHANNELS", "MIME_TYPE", "SAMPLE_RATE", "MusicStream", "check_prompts"]

SAMPLE_RATE = 48000
CHANNELS = 2
MIME_TYPE = "audio/pcm;rate=48000;channels=2"
"""The ``mimeType`` of the audio chunks: raw signed 16-bit little-endian PCM, 48 kHz,
interleaved stereo (the Live API's ``audio/pcm;rate=…`` form, with the channel count)."""


def check_prompts(prompts: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Validate weighted prompts: at least one, each a non-empty text and a finite weight,
    not all weights 0. Raises :class:`InvalidArgument` with the reason."""
    if not prompts:
        raise InvalidArgument("weightedPrompts must contain at least one prompt")
    checked: list[tuple[str, float]] = []
    for i, (text, weight) in enumerate(prompts):
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgument(f"weightedPrompts[{i}].text must be a non-empty string")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise InvalidArgument(f"weightedPrompts[{i}].weight must be a number")
        if not math.isfinite(weight):
            raise InvalidArgument(f"weightedPrompts[{i}].weight must be finite")
        checked.append((text, float(weight)))
    if all(weight == 0 for _, weight in checked):
        raise InvalidArgument("weightedPrompts: the weights must not all be 0")
    return checked


class MusicStream:
    """Weighted prompts and a config in, fixed-size PCM chunks out (see the module docstring).

    ``chunk_frames`` frames per chunk (4800 = 100 ms, 19 200 bytes); ``soundfont`` overrides
    the SoundFont path. Construction raises :class:`~openlive.errors.ConfigError` when the
    SoundFont or the renderer is not installed.
    """

    def __init__(
        self,
        config: MusicConfig | None = None,
        prompts: Sequence[tuple[str, float]] | None = None,
        *,
        chunk_frames: int = 4800,
        soundfont: str | os.PathLike[str] | None = None,
    ) -> None:
        if chunk_frames <= 0:
            raise ValueError("chunk_frames must be positive")
        self._lock = threading.Lock()
        """Held while rendering (a render thread) and while a change is applied."""
        self._inbox: list[Callable[[], None]] = []
        """Changes made while a chunk was rendering, applied before the next one."""
        self._inbox_lock = threading.Lock()
        """Held only to add to or empty the inbox: never while rendering."""
        self._config = validate(config or MusicConfig())
        self._prompts: list[tuple[str, float]] = []
        self._renderer = Renderer(soundfont, SAMPLE_RATE)
        self._composer = Composer(self._config, SAMPLE_RATE)
        self._chunk_frames = chunk_frames
        if prompts is not None:
            self.set_prompts(prompts)

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def channels(self) -> int:
        return CHANNELS

    @property
    def mime_type(self) -> str:
        return MIME_TYPE

    @property
    def chunk_frames(self) -> int:
        return self._chunk_frames

    @property
    def chunk_bytes(self) -> int:
        return self._chunk_frames * CHANNELS * 2

    @property
    def config(self) -> MusicConfig:
        return self._config

    @property
    def prompts(self) -> list[tuple[str, float]]:
        return list(self._prompts)

    @property
    def weights(self) -> Blend:
        """The current blend of styles (style name → weight), for logs and metadata."""
        with self._lock:
            self._drain()
            return self._composer.weights

    @property
    def position(self) -> float:
        """Seconds of audio produced so far."""
        return self._renderer.frame / SAMPLE_RATE

    def set_prompts(self, prompts: Sequence[tuple[str, float]]) -> None:
        """Steer toward new weighted prompts (validated by :func:`check_prompts`)."""
        checked = check_prompts(prompts)
        self._prompts = checked
        self._change(lambda: self._composer.set_prompts(checked))

    def set_config(self, config: MusicConfig) -> None:
        """A new config (validated; see :meth:`Composer.configure` for when each part acts)."""
        validate(config)
        self._config = config
        self._change(lambda: self._composer.configure(config))

    def reset_context(self) -> None:
        """Start over from the current position: sounding notes fade out, bar 0 begins now,
        and the config's bpm, scale and seed take effect. Prompts are kept."""

        def reset() -> None:
            self._renderer.release_all()
            self._composer.reset(self._renderer.frame)

        self._change(reset)

    def _change(self, apply: Callable[[], None]) -> None:
        """Apply a change now if no chunk is rendering, else before the next chunk: the caller
        (a session's event loop) never waits for a render."""
        with self._inbox_lock:
            self._inbox.append(apply)
        if self._lock.acquire(blocking=False):
            try:
                self._drain()
            finally:
                self._lock.release()

    def _drain(self) -> None:
        """Apply the waiting changes in the order they were made (``_lock`` held)."""
        with self._inbox_lock:
            waiting, self._inbox = self._inbox, []
        for apply in waiting:
            apply()

    def next_chunk(self) -> bytes:
        """The next ``chunk_bytes`` bytes of PCM (blocking, CPU-bound)."""
        with self._lock:
            self._drain()
            end = self._renderer.frame + self._chunk_frames
            while self._composer.next_start < end:
                bar = self._composer.next_bar()
                for channel, (program, drums) in bar.programs.items():
                    self._renderer.program(bar.start, channel, program, drums)
                self._renderer.schedule(bar.events)
            bright = self._config.brightness
            self._renderer.tilt = 0.0 if bright is None else 1.2 * (bright - 0.5)
            weights = self._composer.weights
            self._renderer.reverb.wet = sum(w * STYLES[n].reverb for n, w in weights.items())
            return self._renderer.render(self._chunk_frames)
