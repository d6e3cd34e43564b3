"""The music generator, heard: every assertion is measured on rendered PCM (no mocks)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.music.audio import (
    SR,
    band_energy,
    centroid,
    chroma,
    onset_envelope,
    onset_strength,
    pcm_to_float,
    render,
    require_synth,
    tempo,
)

require_synth()

from openlive.music import MusicConfig, MusicStream, Scale  # noqa: E402
from openlive.music.config import scale_pitch_classes  # noqa: E402

METRIC_RATIOS = (0.5, 2 / 3, 0.75, 1.0, 4 / 3, 1.5, 2.0)


@pytest.mark.parametrize(
    ("prompt", "bpm"),
    [
        ("minimal techno", 126),
        ("lo-fi hip hop piano", 80),
        ("funk bass and drums", 104),
        ("bossa nova guitar", 132),
        ("jazz", 150),
        ("drum and bass", 174),
    ],
)
def test_tempo_is_the_bpm(prompt: str, bpm: int) -> None:
    audio = render([(prompt, 1.0)], 6, seed=11, bpm=bpm)
    near = tempo(audio, 0.8 * bpm, 1.25 * bpm)
    assert abs(near / bpm - 1) <= 0.02, f"{prompt}: measured {near:.2f} bpm, asked {bpm}"
    # the strongest periodicity overall is a metrical level of the same tempo
    strongest = tempo(audio)
    assert any(abs(strongest / (bpm * r) - 1) <= 0.02 for r in METRIC_RATIOS), strongest


def test_bpm_changes_the_measured_tempo() -> None:
    slow = tempo(render([("house", 1.0)], 6, seed=3, bpm=100), 80, 125)
    fast = tempo(render([("house", 1.0)], 6, seed=3, bpm=120), 96, 150)
    assert abs(slow - 100) <= 2 and abs(fast - 120) <= 2.4, (slow, fast)


@pytest.mark.parametrize("scale", [Scale.D_MAJOR_B_MINOR, Scale.E_FLAT_MAJOR_C_MINOR])
@pytest.mark.parametrize("prompt", ["piano", "jazz", "lo-fi hip hop piano"])
def test_pitch_classes_stay_in_the_scale(prompt: str, scale: Scale) -> None:
    audio = render([(prompt, 1.0)], 5, seed=7, scale=scale, mute_drums=True)
    energy = chroma(audio)
    inside = scale_pitch_classes(scale)
    assert inside is not None
    share = sum(energy[pc] for pc in inside) / energy.sum()
    assert share >= 0.88, f"{prompt} in {scale.name}: {share:.1%} of the pitched energy in scale"
    # the two scales give different pitch content (7 of 12 classes differ in at least one)
    outside = [pc for pc in range(12) if pc not in inside]
    assert max(energy[pc] for pc in outside) < 0.5 * max(energy[pc] for pc in inside)


def test_mute_bass_removes_the_low_band() -> None:
    prompt = [("funk bass and drums", 1.0)]
    with_bass = render(prompt, 4, seed=5, mute_drums=True)
    without = render(prompt, 4, seed=5, mute_drums=True, mute_bass=True)
    low_with, low_without = band_energy(with_bass, 30, 130), band_energy(without, 30, 130)
    assert low_without < 0.1 * low_with, (low_with, low_without)
    # the rest of the music is still there
    assert band_energy(without, 300, 4000) > 0.3 * band_energy(with_bass, 300, 4000)


def test_mute_drums_removes_the_transients() -> None:
    prompt = [("minimal techno", 1.0)]
    with_drums = render(prompt, 4, seed=5)
    without = render(prompt, 4, seed=5, mute_drums=True)
    high_with, high_without = (
        band_energy(with_drums, 5000, 16000),
        band_energy(without, 5000, 16000),
    )
    assert high_without < 0.2 * high_with, (high_with, high_without)
    flux_with = np.abs(onset_envelope(with_drums, low_hz=3000)).sum()
    flux_without = np.abs(onset_envelope(without, low_hz=3000)).sum()
    assert flux_without < 0.5 * flux_with, (flux_with, flux_without)
    # the bass and the chords stay
    assert band_energy(without, 300, 3000) > 0.5 * band_energy(with_drums, 300, 3000)


def test_only_bass_and_drums_drops_chords_and_melody() -> None:
    prompt = [("lo-fi hip hop piano", 1.0)]
    full = render(prompt, 4, seed=9, mute_drums=True)
    rhythm = render(prompt, 4, seed=9, mute_drums=True, only_bass_and_drums=True)
    assert band_energy(rhythm, 400, 4000) < 0.15 * band_energy(full, 400, 4000)
    assert band_energy(rhythm, 30, 130) > 0.5 * band_energy(full, 30, 130)


def test_same_seed_same_audio_other_seed_other_audio() -> None:
    prompts = [("bossa nova guitar", 1.0), ("jazz", 0.5)]
    first = render(prompts, 3, seed=1234, bpm=128)
    again = render(prompts, 3, seed=1234, bpm=128)
    other = render(prompts, 3, seed=4321, bpm=128)
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


def test_different_prompts_sound_different() -> None:
    ambient = render([("ambient strings", 1.0)], 5, seed=2)
    rock = render([("rock", 1.0)], 5, seed=2)
    techno = render([("minimal techno", 1.0)], 5, seed=2)
    assert centroid(rock) > 1.5 * centroid(ambient), (centroid(rock), centroid(ambient))
    attacks = onset_strength(techno), onset_strength(ambient)
    assert attacks[0] > 1.4 * attacks[1], attacks
    # the unknown words still give music
    unknown = render([("a glittering sunrise over the harbour", 1.0)], 2, seed=2)
    assert np.sqrt(np.mean(unknown**2)) > 0.01


def test_prompt_change_moves_to_the_new_style_within_a_few_bars() -> None:
    bar = 20  # chunks of 100 ms in a bar at 120 bpm
    stream = MusicStream(MusicConfig(seed=4, bpm=120), [("ambient", 1.0)])
    before = onset_strength(pcm_to_float(b"".join(stream.next_chunk() for _ in range(bar))))
    stream.set_prompts([("rock", 1.0)])
    weights: list[float] = []
    strength: list[float] = []
    for _ in range(4):
        pcm = b"".join(stream.next_chunk() for _ in range(bar))
        weights.append(stream.weights.get("rock", 0.0))
        strength.append(onset_strength(pcm_to_float(pcm)))
    assert 0.0 < weights[0] < 1.0, weights  # a blend on the way, not a jump
    assert weights[-1] == pytest.approx(1.0), weights  # arrived within 4 bars
    assert strength[-1] > 2 * before, (before, strength)  # the rock drums are heard


@pytest.mark.parametrize("prompt", ["ambient strings", "lo-fi hip hop piano"])
def test_no_click_at_chunk_boundaries(prompt: str) -> None:
    chunk = 2048
    stream = MusicStream(MusicConfig(seed=8, bpm=110), [(prompt, 1.0)], chunk_frames=chunk)
    left = pcm_to_float(b"".join(stream.next_chunk() for _ in range(100)))[:, 0]
    # the second difference is where a discontinuity (a click) shows; at the first frame of
    # each chunk it is like anywhere else
    curvature = np.abs(left[2:] - 2 * left[1:-1] + left[:-2])
    at_boundaries = curvature[chunk - 1 :: chunk]
    assert np.median(at_boundaries) <= 1.5 * np.median(curvature) + 1e-4
    assert np.percentile(at_boundaries, 90) <= 2 * np.percentile(curvature, 90) + 1e-4


def test_reset_context_applies_a_new_bpm() -> None:
    stream = MusicStream(MusicConfig(seed=3, bpm=90), [("rock", 1.0)])
    for _ in range(10):
        stream.next_chunk()
    stream.set_config(MusicConfig(seed=3, bpm=150))
    stream.reset_context()
    audio = pcm_to_float(b"".join(stream.next_chunk() for _ in range(60)))
    assert abs(tempo(audio, 120, 187) / 150 - 1) <= 0.02


def test_render_speed_real_time_factor() -> None:
    stream = MusicStream(MusicConfig(seed=1, bpm=124, density=0.8), [("house", 1.0)])
    stream.next_chunk()  # loads the SoundFont (once per process)
    seconds = 10.0
    start = time.perf_counter()
    pcm = b"".join(stream.next_chunk() for _ in range(int(seconds * 10)))
    spent = time.perf_counter() - start
    rtf = spent / seconds
    print(
        f"\nmusic render: {seconds:.0f} s of 48 kHz stereo in {spent:.3f} s, real-time factor "
        f"{rtf:.4f}, about {int(1 / rtf)} streams per core"
    )
    assert len(pcm) == seconds * SR * 4
    assert np.abs(pcm_to_float(pcm)).max() > 0.05


@pytest.mark.parametrize(("prompt", "ratio"), [("lo-fi hip hop piano", 1.25), ("house", 1.08)])
def test_density_raises_the_note_rate(prompt: str, ratio: float) -> None:
    sparse = render([(prompt, 1.0)], 5, seed=3, density=0.1)
    dense = render([(prompt, 1.0)], 5, seed=3, density=0.9)
    attacks = onset_strength(dense), onset_strength(sparse)
    assert attacks[0] > ratio * attacks[1], attacks


@pytest.mark.parametrize("prompt", ["lo-fi hip hop piano", "jazz", "ambient strings"])
def test_brightness_raises_the_spectral_centroid(prompt: str) -> None:
    dark = render([(prompt, 1.0)], 5, seed=3, brightness=0.1)
    bright = render([(prompt, 1.0)], 5, seed=3, brightness=0.9)
    assert centroid(bright) > 1.4 * centroid(dark), (centroid(bright), centroid(dark))


@pytest.mark.parametrize("prompt", ["funk bass and drums", "minimal techno"])
def test_temperature_raises_bar_to_bar_variation(prompt: str) -> None:
    def variation(temperature: float) -> float:
        drums = render(
            [(prompt, 1.0)],
            7,
            seed=3,
            bpm=120,
            temperature=temperature,
            mute_bass=True,
            only_bass_and_drums=True,
        )
        env = onset_envelope(drums)
        bar = int(2 * SR / 240)  # 2 s bars in 5 ms frames
        first, second = env[bar : 2 * bar], env[2 * bar : 3 * bar]
        return float(np.abs(first - second).sum() / (np.abs(first).sum() + np.abs(second).sum()))

    steady, wild = variation(0.0), variation(3.0)
    assert steady < 0.03 and wild > 2 * steady + 0.03, (steady, wild)
