"""The style vocabulary and the prompt → style blend.

Each :class:`Style` is a small model of a genre: its tempo range, a drum pattern family, a bass
line style, a chord voicing and rhythm, a melody density, General MIDI programs for each layer
(ordered dark → bright, picked by ``brightness``), a swing amount, a mode and a home key.

The vocabulary (:data:`STYLES`, by name): minimal techno, house, disco, lo-fi hip hop piano, hip
hop, trap, drum and bass, ambient strings, ambient, piano, classical, jazz, bossa nova guitar,
funk bass and drums, rock, blues, reggae, synthwave, chillout. Each style also lists keywords
(moods, instruments, related genres: "dark", "dreamy", "upbeat", "saxophone", ...) that prompts
are matched against. Instrument words in a prompt (:data:`INSTRUMENTS`: piano, guitar, strings,
saxophone, flute, organ, rhodes, vibraphone, violin, cello, trumpet, synth, harp, choir, ...)
also set the program of the chords or melody layer.

:func:`blend` turns weighted prompts into a weight per style: a prompt naming a style picks it;
any other text is matched to the nearest styles by the cosine similarity of character trigrams
and word overlap, so every prompt gives music (text with no match at all picks a style from a
stable hash of the text). Prompt weights are normalised; ``guidance`` sharpens the blend toward
its top style.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "INSTRUMENTS",
    "MODES",
    "STYLES",
    "Blend",
    "Style",
    "blend",
    "instrument_overrides",
    "sharpen",
    "style_scores",
]

MODES: dict[str, int] = {"major": 0, "dorian": 1, "mixolydian": 4, "minor": 5}
"""Each mode as a rotation of the major scale (the degree of the major scale it starts on)."""


@dataclass(frozen=True)
class Style:
    """A genre model. Pattern family names are resolved by :mod:`openlive.music.compose`."""

    name: str
    keywords: str
    tempo: tuple[int, int]
    drums: str  # drum pattern family, "" for none
    kit: int  # GM drum kit (bank 128 preset)
    bass: str  # bass line style
    chords: str  # chord rhythm
    voicing: str  # "triad", "seventh", "ninth", "power", "open"
    melody: float  # melody notes per eighth note at density 0.5
    bass_programs: tuple[int, ...]
    chord_programs: tuple[int, ...]
    melody_programs: tuple[int, ...]
    swing: float = 0.0  # fraction of a step the off-beats are delayed
    swing_unit: int = 2  # 2: swung eighths, 1: swung sixteenths
    mode: str = "minor"
    key: int = 9  # the mode's tonic pitch class when the scale is unspecified
    progression: tuple[int, ...] = (0, 5, 3, 4)  # scale degree of each bar's chord
    density: float = 0.5
    brightness: float = 0.5
    melody_octave: int = 72  # bottom of the melody's register (MIDI key)
    reverb: float = 0.25  # the room's level

    @property
    def bpm(self) -> int:
        """The style's own tempo (the middle of its range)."""
        return (self.tempo[0] + self.tempo[1]) // 2


_STYLE_LIST = (
    Style(
        "minimal techno",
        "techno minimal dark hypnotic club electronic warehouse berlin repetitive deep",
        (122, 130),
        "four_on_floor",
        24,
        "offbeat",
        "stab",
        "seventh",
        0.12,
        (38, 39),
        (89, 90, 81),
        (98, 80),
        mode="minor",
        key=9,
        progression=(0, 0, 5, 0),
        density=0.45,
        brightness=0.4,
        reverb=0.2,
        melody_octave=72,
    ),
    Style(
        "house",
        "house deep dance club groove piano house uplifting party electronic",
        (118, 126),
        "house",
        25,
        "octave_offbeat",
        "house_stab",
        "seventh",
        0.2,
        (33, 38),
        (4, 0),
        (11, 80),
        swing=0.06,
        swing_unit=1,
        mode="dorian",
        key=2,
        progression=(0, 3, 0, 4),
        density=0.55,
        brightness=0.6,
        reverb=0.2,
    ),
    Style(
        "disco",
        "disco funky dance seventies strings groove happy upbeat",
        (112, 124),
        "disco",
        0,
        "octave",
        "strum",
        "seventh",
        0.3,
        (33, 36),
        (48, 27, 61),
        (48, 56),
        mode="dorian",
        key=4,
        progression=(0, 3, 0, 3),
        density=0.65,
        brightness=0.7,
        reverb=0.2,
    ),
    Style(
        "lo-fi hip hop piano",
        "lofi lo fi chill hip hop beats study relax mellow dusty rhodes jazzy piano sleepy",
        (72, 88),
        "boom_bap",
        8,
        "boom",
        "comp",
        "ninth",
        0.3,
        (32, 33),
        (4, 0),
        (0, 11),
        swing=0.14,
        swing_unit=1,
        mode="major",
        key=5,
        progression=(1, 4, 0, 5),
        density=0.45,
        brightness=0.35,
        reverb=0.3,
        melody_octave=67,
    ),
    Style(
        "hip hop",
        "hip hop rap boom bap beats urban groove sample",
        (86, 96),
        "boom_bap",
        25,
        "boom",
        "comp",
        "seventh",
        0.25,
        (33, 38),
        (4, 89),
        (0, 80),
        swing=0.1,
        swing_unit=1,
        mode="minor",
        key=7,
        progression=(0, 5, 3, 4),
        density=0.5,
        brightness=0.45,
        reverb=0.15,
    ),
    Style(
        "trap",
        "trap 808 dark hard rap hi hats rolls",
        (136, 150),
        "trap",
        25,
        "sustained_half",
        "pad",
        "triad",
        0.2,
        (38, 87),
        (89, 48),
        (80, 98),
        mode="minor",
        key=1,
        progression=(0, 5, 0, 6),
        density=0.55,
        brightness=0.4,
        reverb=0.15,
    ),
    Style(
        "drum and bass",
        "drum and bass dnb jungle breakbeat fast liquid energetic rave",
        (170, 176),
        "dnb",
        24,
        "dnb",
        "pad",
        "ninth",
        0.2,
        (38, 39),
        (89, 91),
        (98, 81),
        mode="minor",
        key=5,
        progression=(0, 5, 3, 6),
        density=0.6,
        brightness=0.55,
        reverb=0.2,
    ),
    Style(
        "ambient strings",
        "ambient strings orchestral cinematic calm peaceful slow lush string ensemble film",
        (60, 76),
        "",
        0,
        "sustained",
        "pad",
        "open",
        0.1,
        (42, 48),
        (49, 48),
        (40, 73),
        mode="major",
        key=2,
        progression=(0, 4, 5, 3),
        density=0.3,
        brightness=0.4,
        reverb=0.45,
        melody_octave=67,
    ),
    Style(
        "ambient",
        "ambient atmospheric dreamy ethereal space meditative drone pads new age floating",
        (60, 80),
        "",
        0,
        "sustained",
        "pad",
        "ninth",
        0.08,
        (89, 88),
        (89, 88, 91),
        (11, 98),
        mode="major",
        key=4,
        progression=(0, 3, 0, 4),
        density=0.25,
        brightness=0.5,
        reverb=0.5,
    ),
    Style(
        "piano",
        "piano solo piano ballad romantic gentle keys emotional",
        (68, 96),
        "",
        0,
        "sustained_half",
        "arp",
        "triad",
        0.35,
        (0,),
        (0,),
        (0,),
        mode="major",
        key=0,
        progression=(0, 4, 5, 3),
        density=0.45,
        brightness=0.5,
        reverb=0.35,
        melody_octave=67,
    ),
    Style(
        "classical",
        "classical orchestra baroque chamber symphony elegant strings harpsichord",
        (84, 112),
        "",
        0,
        "walking_quarter",
        "arp",
        "triad",
        0.45,
        (43, 42),
        (46, 6, 48),
        (40, 73, 68),
        mode="major",
        key=7,
        progression=(0, 3, 4, 0),
        density=0.55,
        brightness=0.55,
        reverb=0.4,
    ),
    Style(
        "jazz",
        "jazz swing bebop cool jazz saxophone smooth club standards trio brushes",
        (120, 176),
        "jazz",
        32,
        "walking",
        "jazz_comp",
        "seventh",
        0.45,
        (32,),
        (4, 0),
        (65, 66, 56),
        swing=0.33,
        swing_unit=2,
        mode="major",
        key=10,
        progression=(1, 4, 0, 0),
        density=0.5,
        brightness=0.45,
        reverb=0.2,
        melody_octave=65,
    ),
    Style(
        "bossa nova guitar",
        "bossa nova brazil latin samba guitar nylon acoustic warm cafe relaxed",
        (126, 140),
        "bossa",
        40,
        "bossa",
        "bossa",
        "seventh",
        0.25,
        (32, 33),
        (24,),
        (73, 65, 24),
        mode="major",
        key=2,
        progression=(0, 1, 4, 0),
        density=0.5,
        brightness=0.5,
        reverb=0.25,
        melody_octave=67,
    ),
    Style(
        "funk bass and drums",
        "funk funky groove slap bass drums tight syncopated soul rhythm",
        (96, 112),
        "funk",
        0,
        "funk",
        "funk_stab",
        "ninth",
        0.15,
        (36, 37),
        (28, 7),
        (61, 62),
        swing=0.05,
        swing_unit=1,
        mode="dorian",
        key=4,
        progression=(0, 0, 3, 0),
        density=0.6,
        brightness=0.6,
        reverb=0.12,
    ),
    Style(
        "rock",
        "rock guitar distorted band energetic loud drums power anthem alternative metal",
        (108, 140),
        "rock",
        16,
        "pulse",
        "strum",
        "power",
        0.25,
        (33, 34),
        (29, 30),
        (29, 30),
        mode="minor",
        key=4,
        progression=(0, 5, 2, 6),
        density=0.6,
        brightness=0.6,
        reverb=0.15,
        melody_octave=64,
    ),
    Style(
        "blues",
        "blues shuffle twelve bar soulful guitar harmonica slow sad",
        (76, 100),
        "shuffle",
        0,
        "walking_quarter",
        "comp",
        "seventh",
        0.3,
        (32, 33),
        (26, 0),
        (27, 22, 65),
        swing=0.33,
        swing_unit=2,
        mode="mixolydian",
        key=9,
        progression=(0, 3, 0, 4),
        density=0.5,
        brightness=0.45,
        reverb=0.2,
        melody_octave=64,
    ),
    Style(
        "reggae",
        "reggae dub jamaica one drop skank offbeat island relaxed",
        (70, 84),
        "one_drop",
        0,
        "reggae",
        "skank",
        "triad",
        0.2,
        (33, 38),
        (16, 27),
        (16, 11),
        swing=0.08,
        swing_unit=1,
        mode="major",
        key=7,
        progression=(0, 3, 0, 4),
        density=0.5,
        brightness=0.5,
        reverb=0.25,
    ),
    Style(
        "synthwave",
        "synthwave synth retro eighties 80s electronic neon outrun synthpop arpeggio",
        (90, 118),
        "rock",
        24,
        "octave",
        "pad",
        "seventh",
        0.3,
        (38, 39),
        (90, 89, 81),
        (81, 80, 62),
        mode="minor",
        key=9,
        progression=(0, 5, 2, 6),
        density=0.55,
        brightness=0.65,
        reverb=0.3,
    ),
    Style(
        "chillout",
        "chillout downtempo chill lounge electric piano relaxing mellow smooth sunset",
        (86, 100),
        "downtempo",
        0,
        "boom",
        "comp",
        "ninth",
        0.25,
        (33, 38),
        (4, 5),
        (11, 73),
        swing=0.08,
        swing_unit=1,
        mode="dorian",
        key=7,
        progression=(0, 3, 0, 4),
        density=0.4,
        brightness=0.45,
        reverb=0.3,
    ),
)

STYLES: dict[str, Style] = {style.name: style for style in _STYLE_LIST}

INSTRUMENTS: dict[str, tuple[str, int]] = {
    "piano": ("melody", 0),
    "rhodes": ("chords", 4),
    "electric piano": ("chords", 4),
    "organ": ("chords", 16),
    "guitar": ("chords", 24),
    "electric guitar": ("chords", 27),
    "strings": ("chords", 48),
    "pad": ("chords", 89),
    "harp": ("melody", 46),
    "saxophone": ("melody", 65),
    "sax": ("melody", 65),
    "flute": ("melody", 73),
    "violin": ("melody", 40),
    "cello": ("melody", 42),
    "trumpet": ("melody", 56),
    "vibraphone": ("melody", 11),
    "marimba": ("melody", 12),
    "synth": ("melody", 81),
    "bells": ("melody", 14),
    "choir": ("chords", 52),
    "clarinet": ("melody", 71),
    "kalimba": ("melody", 108),
}
"""Instrument words: the layer they set and its General MIDI program (0-based)."""


Blend = dict[str, float]
"""A weight per style name (weights ≥ 0, summing to 1)."""


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("-", ""))


def _trigrams(text: str) -> Counter[str]:
    grams: Counter[str] = Counter()
    for word in _words(text):
        padded = f" {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(count * b[gram] for gram, count in a.items() if gram in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


@lru_cache(maxsize=1)
def _style_index() -> list[tuple[Style, Counter[str], set[str], Counter[str]]]:
    return [
        (
            style,
            _trigrams(style.name),
            set(_words(style.keywords + " " + style.name)),
            _trigrams(style.keywords),
        )
        for style in _STYLE_LIST
    ]


def style_scores(text: str) -> dict[str, float]:
    """The similarity (0..1+) of ``text`` to each style: its name contained in the text
    scores highest; otherwise trigram cosine to the name and keywords plus word overlap."""
    text_lower = " ".join(_words(text))
    grams = _trigrams(text)
    words = set(_words(text))
    scores: dict[str, float] = {}
    for style, name_grams, keyword_words, keyword_grams in _style_index():
        score = 0.0
        if " ".join(_words(style.name)) in text_lower:
            score += 1.0 + 0.1 * len(_words(style.name))
        if words:
            score += 0.6 * len(words & keyword_words) / len(words)
        score += 0.3 * _cosine(grams, name_grams) + 0.2 * _cosine(grams, keyword_grams)
        scores[style.name] = score
    return scores


def _prompt_blend(text: str) -> Blend:
    scores = style_scores(text)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:3]
    if ranked[0][1] < 0.12:
        # nothing close: a stable choice from the text itself, so any text gives music
        index = zlib.crc32(text.strip().lower().encode()) % len(_STYLE_LIST)
        return {_STYLE_LIST[index].name: 1.0}
    top = ranked[0][1]
    raw = {name: (score / top) ** 6 for name, score in ranked if score > 0}
    total = sum(raw.values())
    return {name: value / total for name, value in raw.items()}


def blend(prompts: Sequence[tuple[str, float]]) -> Blend:
    """Blend weighted prompts into style weights. Prompt weights are normalised by the sum of
    their absolute values; a negative weight steers away from its styles. Returns ``{}`` when
    nothing remains (no prompts, or every weight zero)."""
    total = sum(abs(weight) for _, weight in prompts)
    if total <= 0:
        return {}
    mix: dict[str, float] = {}
    for text, weight in prompts:
        for name, share in _prompt_blend(text).items():
            mix[name] = mix.get(name, 0.0) + share * weight / total
    kept = {name: value for name, value in mix.items() if value > 1e-6}
    norm = sum(kept.values())
    return {name: value / norm for name, value in sorted(kept.items())} if norm else {}


def sharpen(weights: Blend, guidance: float) -> Blend:
    """Sharpen ``weights`` toward the top style: each weight is raised to ``1 + guidance/2``
    (guidance 0 keeps the prompts' own proportions, 6 nearly picks the top style)."""
    if not weights:
        return {}
    power = 1.0 + guidance / 2.0
    raw = {name: value**power for name, value in weights.items()}
    total = sum(raw.values())
    return {name: value / total for name, value in raw.items() if value / total > 1e-4}


def instrument_overrides(prompts: Sequence[tuple[str, float]]) -> dict[str, int]:
    """The layer programs that instrument words of the prompts ask for (layer → program),
    the heavier prompt winning a layer; longer instrument names are matched first."""
    chosen: dict[str, tuple[float, int]] = {}
    for text, weight in prompts:
        if weight <= 0:
            continue
        spaced = " " + " ".join(_words(text)) + " "
        for word in sorted(INSTRUMENTS, key=len, reverse=True):
            if f" {word} " in spaced:
                spaced = spaced.replace(f" {word} ", " ")
                layer, program = INSTRUMENTS[word]
                if layer not in chosen or chosen[layer][0] < weight:
                    chosen[layer] = (weight, program)
    return {layer: program for layer, (_, program) in sorted(chosen.items())}
