"""A bar-by-bar composer: drums, bass, chords and melody as separate layers of note events.

:class:`Composer` writes one 4/4 bar (16 sixteenth-note steps) at a time, just before it is
rendered, so prompt and config changes are heard from the next bar on. Every random choice
comes from a generator seeded by (seed, context, bar, layer), so the same seed, prompts and
config give the same notes, and muting one layer never changes the notes of another.

How the controls act:

* prompts: a blend of styles (:func:`openlive.music.styles.blend`). Each layer takes its
  patterns and program from one style of the blend (drawn once per 4-bar phrase in proportion to
  the weights), so a 50/50 blend mixes, say, techno drums with lo-fi chords. A prompt change
  ramps the blend from the old to the new weights over ``round(4 - guidance/2)`` bars (1 to 4).
* ``guidance``: how strictly the prompts are followed: the blend is sharpened toward its top
  style (weights raised to ``1 + guidance/2``) and transitions are quicker.
* ``bpm``: the tempo exactly (bar lengths are kept in fractional frames, events rounded to the
  nearest frame, so nothing drifts); unset, the blend's tempo.
* ``scale``: the seven pitch classes every pitched note uses (each style's mode becomes a
  rotation of that scale); unspecified, the key of the top style when the context starts.
* ``bpm``, ``scale`` and ``seed`` are fixed for a context: a change takes effect on
  :meth:`Composer.reset` (``RESET_CONTEXT``), or at once when no bar was composed yet.
* ``density``: the note rate (optional drum hits, bass and chord pickups, melody notes).
* ``brightness``: register (melody and chord voicings move up), velocity, and the program of
  each layer (each style lists programs dark → bright).
* ``temperature`` (and DIVERSITY mode, which multiplies it by 1.5): pattern mutations, melody
  leaps and velocity variation; ``top_k``: how many candidate melody notes are sampled from.
* ``muteBass``, ``muteDrums``, ``onlyBassAndDrums``: drop those layers' notes.
* VOCALIZATION mode doubles the melody with a choir "ooh" voice.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field

import numpy as np

from openlive.music.config import MAJOR_STEPS, MusicConfig, MusicGenerationMode
from openlive.music.styles import (
    MODES,
    STYLES,
    Blend,
    Style,
    blend,
    instrument_overrides,
    sharpen,
)

__all__ = [
    "BASS",
    "CHORDS",
    "DRUMS",
    "MELODY",
    "STEPS",
    "VOICE",
    "Bar",
    "Composer",
    "NoteEvent",
]

BASS, CHORDS, MELODY, VOICE, DRUMS = 0, 1, 2, 3, 9
"""MIDI channel of each layer (9 is the General MIDI drum channel)."""

STEPS = 16
"""Sixteenth-note steps per 4/4 bar."""

_CHOIR = 53  # GM "Voice Oohs"


@dataclass(frozen=True)
class NoteEvent:
    """One note: start ``frame`` (absolute, from the stream's start), MIDI ``channel`` and
    ``key``, ``velocity`` in (0, 1], and ``length`` in frames (0: let it ring; drums)."""

    frame: int
    channel: int
    key: int
    velocity: float
    length: int


@dataclass
class Bar:
    """A composed bar: where it starts and how long it is (frames), its tempo, the program of
    each channel (``(program, is_drums)``), its notes, and the style blend it was written from."""

    index: int
    start: int
    length: int
    bpm: float
    programs: dict[int, tuple[int, bool]] = field(default_factory=dict)
    events: list[NoteEvent] = field(default_factory=list)
    weights: Blend = field(default_factory=dict)


# Pattern letters: X accent, x normal, o soft (dropped at low density), g ghost and - optional
# (played with a probability that grows with density), r a triplet roll, . rest.
_DRUM_PATTERNS: dict[str, dict[int, str]] = {
    "four_on_floor": {
        36: "X...X...X...X...",
        39: "....x.......x...",
        42: "o.x.o.x.o.x.o.x.",
        46: "..............-.",
    },
    "house": {
        36: "X...X...X...X...",
        39: "....X.......X...",
        42: "o.o.o.o.o.o.o.o.",
        46: "..x...x...x...x.",
        75: "...-..-....-..-.",
    },
    "disco": {
        36: "X...X...X...X...",
        38: "....X.......X...",
        42: "xoxoxoxoxoxoxoxo",
        46: "..x...x...x...x.",
    },
    "boom_bap": {
        36: "X......-..X..-..",
        38: "....X.......X...",
        42: "x.o.x.o.x.o.x.o.",
        46: "..............-.",
    },
    "trap": {
        36: "X......-..X.....",
        39: "........X.......",
        42: "x.x.x.xrx.x.x.xr",
    },
    "dnb": {
        36: "X.........X.....",
        38: "....X..g....X..g",
        42: "x.x.x.x.x.x.x.x.",
        51: "-...-...-...-...",
    },
    "jazz": {
        51: "X...x.x.X...x.x.",
        44: "....x.......x...",
        36: "g.......g.......",
        38: "......-.......-.",
    },
    "bossa": {
        36: "X..xX..xX..xX..x",
        37: "X..X..X...X..X..",
        70: "xoooxoooxoooxooo",
    },
    "funk": {
        36: "X..-..X...X..-..",
        38: "....X..g.g..X..g",
        42: "xoxoxoxoxoxoxoxo",
        46: "..............-.",
    },
    "rock": {
        36: "X.....-.X.-.....",
        38: "....X.......X...",
        42: "x.x.x.x.x.x.x.x.",
    },
    "shuffle": {
        36: "X.......X.-.....",
        38: "....X.......X...",
        42: "x.x.x.x.x.x.x.x.",
    },
    "one_drop": {
        36: "........X.......",
        37: "........X.......",
        42: "x.o.x.o.x.o.x.o.",
    },
    "downtempo": {
        36: "X.....-...X.....",
        38: "....X.......X...",
        42: "x.oox.o.x.oox.o.",
        69: "-.-.-.-.-.-.-.-.",
    },
}
_CYMBALS = {42, 44, 46, 51, 53, 69, 70, 75}
_CRASH_FAMILIES = {"four_on_floor", "house", "disco", "rock", "dnb", "funk", "shuffle"}

# Bass letters: R root, O octave, F fifth, T third (uppercase always, lowercase with density).
_BASS_PATTERNS: dict[str, str] = {
    "offbeat": "..R...R...R..r.R",
    "octave_offbeat": "..R...O...R...O.",
    "octave": "R.O.R.O.R.O.R.O.",
    "pulse": "R.R.R.R.R.R.R.r.",
    "sustained": "R.......r.......",
    "sustained_half": "R.......R.......",
    "boom": "R......r..R...f.",
    "funk": "R..O..R.r.R.o..r",
    "bossa": "R.....F.F.....R.",
    "dnb": "R.........R.....",
    "reggae": "..R.R...R..F.R..",
}

# Chord rhythms: C always, c with density; legato chords ring until the next hit.
_CHORD_PATTERNS: dict[str, tuple[str, bool]] = {
    "pad": ("C.......c.......", True),
    "stab": ("..C....c..C....c", False),
    "house_stab": ("...C..C....C..c.", False),
    "comp": ("C.......c..C....", True),
    "jazz_comp": ("..c...C...c..C..", False),
    "strum": ("C.C.C.C.C.C.C.C.", False),
    "bossa": ("C..C..C...C..C..", False),
    "funk_stab": ("...C..c...C...c.", False),
    "skank": ("....C.......C...", False),
}


def _hit(letter: str, density: float) -> tuple[float, float]:
    """(probability, velocity) of a pattern letter at ``density``."""
    if letter in "XRC":
        return 1.0, 1.0
    if letter in "xOFT":
        return 1.0, 0.8
    if letter == "o":
        return min(1.0, 0.1 + 1.6 * density), 0.55
    if letter == "g":
        return density * 0.9, 0.35
    if letter in "-rcfot":
        return density * 0.9, 0.7
    return 0.0, 0.0


def _top_k(top_k: int) -> int:
    return 1 + 2 * int(math.log2(max(1, top_k)))


def _pick(weights: Blend, u: float) -> Style:
    acc = 0.0
    names = sorted(weights)
    for name in names:
        acc += weights[name]
        if u < acc:
            return STYLES[name]
    return STYLES[names[-1]]


class Composer:
    """Writes bars from the current prompts and config (see the module docstring)."""

    def __init__(self, config: MusicConfig | None = None, sample_rate: int = 48000) -> None:
        self.sample_rate = sample_rate
        self._config = config or MusicConfig()
        self._prompts: list[tuple[str, float]] = []
        self._raw: Blend = {}
        self._target: Blend = {}
        self._current: Blend = {}
        self._ramp_from: Blend = {}
        self._ramp_total = 1
        self._ramp_done = 1
        self._overrides: dict[str, int] = {}
        self._context = 0
        self._reset_state(0)

    def _reset_state(self, start: int) -> None:
        self._context_config = self._config
        seed = self._config.seed
        self._seed = (seed if seed is not None else secrets.randbits(32)) & 0xFFFFFFFF
        self._bar_index = 0
        self._bar_start = float(start)
        self._major_tonic: int | None = self._config.scale.tonic
        self._last_degree = 4
        self._rhythms: dict[int, list[int]] = {}
        self._current = dict(self._target)
        self._ramp_done = self._ramp_total

    # controls -----------------------------------------------------------------------------

    @property
    def next_start(self) -> int:
        """The frame where the next bar starts."""
        return round(self._bar_start)

    @property
    def config(self) -> MusicConfig:
        return self._config

    @property
    def weights(self) -> Blend:
        """The style blend the next bar is written from (before its ramp step)."""
        return dict(self._current)

    def set_prompts(self, prompts: list[tuple[str, float]]) -> None:
        """New weighted prompts; the music moves to them over the next bars."""
        self._prompts = list(prompts)
        self._raw = blend(self._prompts)
        self._overrides = instrument_overrides(self._prompts)
        self._retarget()

    def configure(self, config: MusicConfig) -> None:
        """A new config: density, brightness, mutes, temperature, top_k, guidance and mode
        apply from the next bar; bpm, scale and seed on :meth:`reset` (at once before the first
        bar of a context)."""
        self._config = config
        if self._bar_index == 0:
            self._context_config = config
            self._major_tonic = config.scale.tonic
            if config.seed is not None:
                self._seed = config.seed & 0xFFFFFFFF
        self._retarget()

    def reset(self, start: int) -> None:
        """Start a new context at frame ``start``: bar 0, the config's bpm, scale and seed."""
        self._context += 1
        self._reset_state(start)

    def _retarget(self) -> None:
        target = sharpen(self._raw, self._config.guidance)
        if target == self._target:
            return
        self._target = target
        if not self._current:
            self._current = dict(target)
            self._ramp_done = self._ramp_total
            return
        self._ramp_from = dict(self._current)
        self._ramp_total = max(1, round(4 - self._config.guidance / 2))
        self._ramp_done = 0

    # composition --------------------------------------------------------------------------

    def _rng(self, *parts: int) -> np.random.Generator:
        return np.random.default_rng([self._seed, self._context, *parts])

    def _layer_rng(self, index: int, phrase: int, layer: int, temp: float) -> np.random.Generator:
        """The generator of a layer's optional hits: the phrase's (so bars repeat) unless this
        bar varies, which it does with probability ``0.3 * temperature``."""
        if self._rng(index, layer, 1).random() < 0.3 * temp:
            return self._rng(index, layer)
        return self._rng(phrase, layer, 2)

    def _advance_blend(self) -> Blend:
        if self._ramp_done < self._ramp_total:
            self._ramp_done += 1
            a = self._ramp_done / self._ramp_total
            names = set(self._ramp_from) | set(self._target)
            mixed = {
                n: (1 - a) * self._ramp_from.get(n, 0.0) + a * self._target.get(n, 0.0)
                for n in names
            }
            self._current = {n: w for n, w in mixed.items() if w > 1e-6}
        return self._current

    def next_bar(self) -> Bar:
        """Compose the next bar and advance."""
        weights = dict(self._advance_blend())
        ctx = self._context_config
        cfg = self._config
        if ctx.bpm is not None:
            bpm = float(ctx.bpm)
        elif weights:
            bpm = float(round(sum(w * STYLES[n].bpm for n, w in weights.items())))
        else:
            bpm = 120.0
        step = self.sample_rate * 60.0 / bpm / 4.0
        start_f = self._bar_start
        bar = Bar(
            self._bar_index,
            round(start_f),
            round(start_f + STEPS * step) - round(start_f),
            bpm,
            weights=weights,
        )
        self._bar_start = start_f + STEPS * step
        index = self._bar_index
        self._bar_index += 1
        if not weights:
            return bar

        def avg(attr: str) -> float:
            return sum(w * float(getattr(STYLES[n], attr)) for n, w in weights.items())

        density = cfg.density if cfg.density is not None else avg("density")
        bright = cfg.brightness if cfg.brightness is not None else avg("brightness")
        temp = cfg.temperature * (
            1.5 if cfg.music_generation_mode is MusicGenerationMode.DIVERSITY else 1.0
        )
        swing = avg("swing")
        swing_unit = 2 if avg("swing_unit") >= 1.5 else 1
        phrase, in_phrase = divmod(index, 4)
        pick = self._rng(phrase, 99)
        u = pick.random(4)
        drum_style, bass_style, chord_style, melody_style = (_pick(weights, x) for x in u)
        top = max(weights, key=lambda n: (weights[n], n))
        if self._major_tonic is None:
            home = STYLES[top]
            self._major_tonic = (home.key - MAJOR_STEPS[MODES[home.mode]]) % 12
        harmony = chord_style
        rot = MODES[harmony.mode]
        prog = harmony.progression
        degree = prog[index % len(prog)]
        next_degree = prog[(index + 1) % len(prog)]

        def when(s: float) -> int:
            pos = s
            frac = s - math.floor(s)
            si = math.floor(s)
            if frac == 0.0:
                if swing_unit == 2 and si % 4 == 2:
                    pos += swing * 2
                elif swing_unit == 1 and si % 2 == 1:
                    pos += swing
            return round(start_f + pos * step)

        def dur(steps: float) -> int:
            return max(1, round(steps * step))

        def key_of(deg: int) -> int:
            idx = rot + deg
            tonic = self._major_tonic or 0
            return tonic + MAJOR_STEPS[idx % 7] + 12 * (idx // 7)

        def place(key: int, low: int) -> int:
            return low + (key - low) % 12

        def vel(rng: np.random.Generator, base: float) -> float:
            v = base * (0.72 + 0.3 * bright) + rng.normal(0.0, 0.04 * temp)
            return float(min(1.0, max(0.08, v)))

        def program(programs: tuple[int, ...]) -> int:
            return programs[min(len(programs) - 1, int(bright * len(programs)))]

        events: list[NoteEvent] = []
        muted_drums = cfg.mute_drums
        muted_bass = cfg.mute_bass
        muted_upper = cfg.only_bass_and_drums

        # drums
        rng = self._layer_rng(index, phrase, DRUMS, temp)
        family = drum_style.drums
        drum_events: list[NoteEvent] = []
        if family:
            for key, row in _DRUM_PATTERNS[family].items():
                for s, letter in enumerate(row):
                    p, v = _hit(letter, density)
                    roll = rng.random()
                    extra = rng.random()
                    if key in _CYMBALS and letter == "x":
                        p = min(1.0, 0.3 + 1.8 * density)  # sparse hats at low density
                    if letter == "." and key == 42 and extra < (density - 0.65) * 1.6:
                        p, v = 1.0, 0.4  # busier hats at high density
                    elif letter == "." and extra < 0.015 * temp * density and key == 36:
                        p, v = 1.0, 0.45
                    if p <= 0 or roll >= p:
                        continue
                    if letter == "r":
                        for t in range(3):
                            drum_events.append(
                                NoteEvent(when(s + t / 3), DRUMS, key, vel(rng, 0.5), 0)
                            )
                        continue
                    drum_events.append(NoteEvent(when(s), DRUMS, key, vel(rng, v), 0))
            if in_phrase == 3 and rng.random() < 0.25 + 0.15 * temp:
                for s in (13, 14, 15):
                    drum_events.append(NoteEvent(when(s), DRUMS, 38, vel(rng, 0.5 + s / 40), 0))
            if in_phrase == 0 and index > 0 and family in _CRASH_FAMILIES:
                drum_events.append(NoteEvent(when(0), DRUMS, 49, vel(rng, 0.8), 0))
        if not muted_drums:
            events += drum_events
        bar.programs[DRUMS] = (drum_style.kit, True)

        # bass
        rng = self._layer_rng(index, phrase, BASS, temp)
        root = place(key_of(degree), 33)
        bass_notes: list[tuple[float, int, float]] = []
        if bass_style.bass == "walking":
            middle = [place(key_of(degree + int(rng.choice([1, 2, 4, 5]))), 33) for _ in "ab"]
            approach = place(key_of(next_degree + (1 if rng.random() < 0.5 else -1)), 33)
            tones = [root, *middle, approach]
            bass_notes = [(4.0 * i, k, 0.9 if i == 0 else 0.75) for i, k in enumerate(tones)]
        elif bass_style.bass == "walking_quarter":
            fifth = place(key_of(degree + 4), 33)
            bass_notes = [(0.0, root, 1.0), (8.0, fifth, 0.8)]
            if rng.random() < density:
                bass_notes.insert(1, (4.0, place(key_of(degree + 2), 33), 0.7))
        else:
            offsets = {"R": 0, "O": 12, "F": key_of(degree + 4) - key_of(degree)}
            offsets["T"] = key_of(degree + 2) - key_of(degree)
            for s, letter in enumerate(_BASS_PATTERNS[bass_style.bass]):
                p, v = _hit(letter, density)
                if p <= 0 or rng.random() >= p:
                    continue
                bass_notes.append((float(s), root + offsets[letter.upper()], v))
        for i, (at, key, v) in enumerate(bass_notes):
            end = bass_notes[i + 1][0] if i + 1 < len(bass_notes) else float(STEPS)
            length = dur(max(0.5, end - at - 0.25))
            if not muted_bass:
                events.append(NoteEvent(when(at), BASS, key, vel(rng, v), length))
        bar.programs[BASS] = (program(bass_style.bass_programs), False)

        # chords
        rng = self._layer_rng(index, phrase, CHORDS, temp)
        low = 52 + round(bright * 7)
        voicing = chord_style.voicing
        if voicing == "power":
            degrees = [degree, degree + 4, degree + 7]
        elif voicing == "ninth":
            degrees = [degree + 2, degree + 4, degree + 6, degree + 8]
        elif voicing == "seventh":
            degrees = [degree, degree + 2, degree + 4, degree + 6]
        elif voicing == "open":
            degrees = [degree, degree + 4, degree + 9]
        else:
            degrees = [degree, degree + 2, degree + 4]
        chord: list[int] = []
        for d in degrees:
            key = place(key_of(d), low)
            while chord and key <= chord[-1]:
                key += 12
            chord.append(key)
        chord_notes: list[NoteEvent] = []
        if chord_style.chords == "arp":
            rate = 1 if density > 0.65 else 2
            cycle = chord + [k + 12 for k in chord[1:]]
            cycle = cycle + cycle[-2:0:-1]
            for n, s in enumerate(range(0, STEPS, rate)):
                chord_notes.append(
                    NoteEvent(
                        when(s),
                        CHORDS,
                        cycle[n % len(cycle)],
                        vel(rng, 0.7 if s % 4 else 0.8),
                        dur(rate - 0.1),
                    )
                )
        else:
            row, legato = _CHORD_PATTERNS[chord_style.chords]
            hits = [
                (s, v)
                for s, letter in enumerate(row)
                for p, v in [_hit(letter, density)]
                if p > 0 and rng.random() < p
            ]
            for i, (s, v) in enumerate(hits):
                end = hits[i + 1][0] if i + 1 < len(hits) else STEPS
                length = dur(end - s - 0.2) if legato else dur(min(1.5, end - s - 0.2))
                velocity = vel(rng, 0.75 * v)
                chord_notes += [NoteEvent(when(s), CHORDS, k, velocity, length) for k in chord]
        if not muted_upper:
            events += chord_notes
        bar.programs[CHORDS] = (
            self._overrides.get("chords", program(chord_style.chord_programs)),
            False,
        )

        # melody
        rng = self._rng(index, MELODY)
        base = melody_style.melody_octave + (12 if bright > 0.75 else -12 if bright < 0.25 else 0)
        slot = 1 if density > 0.7 and melody_style.melody > 0.25 else 2
        note_rate = min(0.95, melody_style.melody * (0.2 + 2.0 * density) * slot / 2)
        motif = in_phrase % 2
        rhythm = self._rhythms.get(motif) if in_phrase >= 2 else None
        if rhythm is None or rng.random() < 0.1 * temp:
            rrng = self._rng(phrase, motif, MELODY)
            rhythm = [
                s
                for s in range(0, STEPS, slot)
                if rrng.random() < (min(1.0, note_rate * 1.6) if s % 8 == 0 else note_rate)
            ]
            self._rhythms[motif] = rhythm
        chord_tones = {key_of(d) % 12 for d in degrees}
        melody_notes: list[NoteEvent] = []
        k_eff = _top_k(cfg.top_k)
        for i, s in enumerate(rhythm):
            candidates = []
            for d in range(self._last_degree - 5, self._last_degree + 6):
                key = key_of(d)
                while key < base:
                    key += 12
                    d += 7
                while key >= base + 19:
                    key -= 12
                    d -= 7
                leap = abs(d - self._last_degree)
                score = -0.55 * leap + (1.6 if key % 12 in chord_tones else 0.0) * (
                    1.0 if s % 4 == 0 else 0.5
                )
                candidates.append((score, d, key))
            candidates = sorted(set(candidates), reverse=True)[:k_eff]
            logits = np.array([c[0] for c in candidates]) / (0.25 + 0.6 * temp)
            probs = np.exp(logits - logits.max())
            choice = candidates[int(rng.choice(len(candidates), p=probs / probs.sum()))]
            self._last_degree = choice[1]
            end = rhythm[i + 1] if i + 1 < len(rhythm) else STEPS
            length = dur(min(6.0, end - s) - 0.2)
            velocity = vel(rng, 0.8 if s % 4 == 0 else 0.68)
            melody_notes.append(NoteEvent(when(s), MELODY, choice[2], velocity, length))
        if not muted_upper:
            events += melody_notes
            if cfg.music_generation_mode is MusicGenerationMode.VOCALIZATION:
                events += [
                    NoteEvent(n.frame, VOICE, n.key, n.velocity * 0.7, n.length)
                    for n in melody_notes
                ]
        bar.programs[MELODY] = (
            self._overrides.get("melody", program(melody_style.melody_programs)),
            False,
        )
        bar.programs[VOICE] = (_CHOIR, False)
        events.sort(key=lambda e: (e.frame, e.channel, e.key))
        bar.events = events
        return bar
