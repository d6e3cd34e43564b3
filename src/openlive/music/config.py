"""The music generation config (``musicGenerationConfig`` of Lyria RealTime, spec §9.2).

:class:`MusicConfig` holds the twelve controls with the spec's defaults; :func:`validate` checks
their ranges and raises :class:`~openlive.errors.InvalidArgument` (close 1007) naming the field by
its camelCase wire name; :func:`config_from_wire` builds a config from a wire object written in
camelCase or snake_case. :class:`Scale` carries the API's scale names, each a major scale and
its relative minor (the same seven pitch classes).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openlive.errors import InvalidArgument

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "MAJOR_STEPS",
    "MusicConfig",
    "MusicGenerationMode",
    "Scale",
    "config_from_wire",
    "scale_pitch_classes",
    "validate",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
"""Semitones of the major scale's seven degrees above its tonic."""


class Scale(enum.Enum):
    """A key signature: a major scale and its relative minor. The value is the major tonic's
    pitch class (0 = C), or -1 for ``SCALE_UNSPECIFIED`` (the style chooses the key)."""

    SCALE_UNSPECIFIED = -1
    C_MAJOR_A_MINOR = 0
    D_FLAT_MAJOR_B_FLAT_MINOR = 1
    D_MAJOR_B_MINOR = 2
    E_FLAT_MAJOR_C_MINOR = 3
    E_MAJOR_D_FLAT_MINOR = 4
    F_MAJOR_D_MINOR = 5
    G_FLAT_MAJOR_E_FLAT_MINOR = 6
    G_MAJOR_E_MINOR = 7
    A_FLAT_MAJOR_F_MINOR = 8
    A_MAJOR_G_FLAT_MINOR = 9
    B_FLAT_MAJOR_G_MINOR = 10
    B_MAJOR_A_FLAT_MINOR = 11

    @property
    def tonic(self) -> int | None:
        """The major tonic's pitch class, ``None`` when unspecified."""
        return None if self.value < 0 else int(self.value)


def scale_pitch_classes(scale: Scale) -> frozenset[int] | None:
    """The seven pitch classes of ``scale`` (``None`` for ``SCALE_UNSPECIFIED``)."""
    tonic = scale.tonic
    if tonic is None:
        return None
    return frozenset((tonic + step) % 12 for step in MAJOR_STEPS)


class MusicGenerationMode(enum.Enum):
    """``musicGenerationMode``. DIVERSITY widens the composer's choices (like a higher
    temperature); VOCALIZATION adds a wordless "ooh/aah" choir voice to the melody."""

    MUSIC_GENERATION_MODE_UNSPECIFIED = "MUSIC_GENERATION_MODE_UNSPECIFIED"
    QUALITY = "QUALITY"
    DIVERSITY = "DIVERSITY"
    VOCALIZATION = "VOCALIZATION"


@dataclass(frozen=True)
class MusicConfig:
    """The generation controls. ``None`` for ``seed``/``bpm``/``density``/``brightness`` lets
    the stream (a random seed) or the prompted style (tempo, density, brightness) choose."""

    temperature: float = 1.1
    top_k: int = 40
    seed: int | None = None
    guidance: float = 4.0
    bpm: int | None = None
    density: float | None = None
    brightness: float | None = None
    scale: Scale = Scale.SCALE_UNSPECIFIED
    mute_bass: bool = False
    mute_drums: bool = False
    only_bass_and_drums: bool = False
    music_generation_mode: MusicGenerationMode = MusicGenerationMode.QUALITY


_RANGES: dict[str, tuple[str, float, float]] = {
    "temperature": ("temperature", 0.0, 3.0),
    "top_k": ("topK", 1, 1000),
    "guidance": ("guidance", 0.0, 6.0),
    "bpm": ("bpm", 60, 200),
    "density": ("density", 0.0, 1.0),
    "brightness": ("brightness", 0.0, 1.0),
    "seed": ("seed", INT32_MIN, INT32_MAX),
}


def validate(config: MusicConfig) -> MusicConfig:
    """Return ``config`` when every field is in the spec's range, else raise
    :class:`InvalidArgument` naming the field (its camelCase wire name) and the range."""
    for attr, (wire, low, high) in _RANGES.items():
        value = getattr(config, attr)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgument(f"musicGenerationConfig.{wire} must be a number")
        if not math.isfinite(value) or not low <= value <= high:
            raise InvalidArgument(
                f"musicGenerationConfig.{wire} must be in [{_fmt(low)}, {_fmt(high)}], "
                f"got {_fmt(value)}"
            )
    if not isinstance(config.scale, Scale):
        raise InvalidArgument("musicGenerationConfig.scale is not a Scale")
    if not isinstance(config.music_generation_mode, MusicGenerationMode):
        raise InvalidArgument("musicGenerationConfig.musicGenerationMode is not a mode")
    return config


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_WIRE_NAMES: dict[str, str] = {
    "temperature": "temperature",
    "topK": "top_k",
    "seed": "seed",
    "guidance": "guidance",
    "bpm": "bpm",
    "density": "density",
    "brightness": "brightness",
    "scale": "scale",
    "muteBass": "mute_bass",
    "muteDrums": "mute_drums",
    "onlyBassAndDrums": "only_bass_and_drums",
    "musicGenerationMode": "music_generation_mode",
}
_SNAKE_TO_WIRE = {snake: wire for wire, snake in _WIRE_NAMES.items()}
_INTEGRAL = {"top_k", "seed", "bpm"}
_BOOLEAN = {"mute_bass", "mute_drums", "only_bass_and_drums"}


def config_from_wire(message: Mapping[str, Any]) -> MusicConfig:
    """Build and validate a config from a ``musicGenerationConfig`` object (camelCase or
    snake_case keys; unknown keys are ignored; ``{}`` gives the defaults). Wrong types and
    out-of-range values raise :class:`InvalidArgument` naming the field."""
    values: dict[str, Any] = {}
    for key, raw in message.items():
        attr = _WIRE_NAMES.get(key) or (key if key in _SNAKE_TO_WIRE else None)
        if attr is None or raw is None:
            continue
        wire = _SNAKE_TO_WIRE[attr]
        if attr == "scale":
            values[attr] = _enum_value(Scale, raw, wire)
        elif attr == "music_generation_mode":
            values[attr] = _enum_value(MusicGenerationMode, raw, wire)
        elif attr in _BOOLEAN:
            if not isinstance(raw, bool):
                raise InvalidArgument(f"musicGenerationConfig.{wire} must be a boolean")
            values[attr] = raw
        else:
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                raise InvalidArgument(f"musicGenerationConfig.{wire} must be a number")
            try:
                number = float(raw)
            except ValueError:
                raise InvalidArgument(f"musicGenerationConfig.{wire} must be a number") from None
            if attr in _INTEGRAL:
                if not number.is_integer():
                    raise InvalidArgument(f"musicGenerationConfig.{wire} must be an integer")
                values[attr] = int(number)
            else:
                values[attr] = number
    return validate(dataclasses.replace(MusicConfig(), **values))


def _enum_value(kind: type[Scale] | type[MusicGenerationMode], raw: Any, wire: str) -> Any:
    if isinstance(raw, str) and raw.upper() in kind.__members__:
        return kind.__members__[raw.upper()]
    example = next(iter(kind.__members__)) if kind is MusicGenerationMode else "C_MAJOR_A_MINOR"
    raise InvalidArgument(f"musicGenerationConfig.{wire}: unknown value {raw!r} (e.g. {example})")
