"""Live music: a composed, SoundFont-rendered music stream steered by weighted prompts.

The generator behind BidiGenerateMusic (Lyria RealTime, spec §9) when no neural music model is
available: :mod:`~openlive.music.styles` (the style vocabulary and prompt blending),
:mod:`~openlive.music.compose` (a bar-by-bar composer of drums, bass, chords and melody),
:mod:`~openlive.music.render` (FluidR3_GM via TinySoundFont) and
:mod:`~openlive.music.stream` (:class:`MusicStream`, what an endpoint drives). No network code.
"""

from __future__ import annotations

from openlive.music.config import MusicConfig, MusicGenerationMode, Scale, config_from_wire
from openlive.music.stream import CHANNELS, MIME_TYPE, SAMPLE_RATE, MusicStream, check_prompts
from openlive.music.styles import STYLES

__all__ = [
    "CHANNELS",
    "MIME_TYPE",
    "SAMPLE_RATE",
    "STYLES",
    "MusicConfig",
    "MusicGenerationMode",
    "MusicStream",
    "Scale",
    "check_prompts",
    "config_from_wire",
]
