"""The music controls without audio: config ranges and wire parsing, prompt checks, the style
vocabulary and blending, and the missing-SoundFont error."""

from __future__ import annotations

import pytest

from openlive.errors import ConfigError, InvalidArgument
from openlive.music.config import (
    MusicConfig,
    MusicGenerationMode,
    Scale,
    config_from_wire,
    scale_pitch_classes,
    validate,
)
from openlive.music.render import APT_PACKAGE, find_soundfont
from openlive.music.stream import check_prompts
from openlive.music.styles import STYLES, blend, instrument_overrides, sharpen


def test_defaults_follow_the_spec() -> None:
    config = MusicConfig()
    assert (config.temperature, config.top_k, config.guidance) == (1.1, 40, 4.0)
    assert config.scale is Scale.SCALE_UNSPECIFIED
    assert config.music_generation_mode is MusicGenerationMode.QUALITY
    assert config_from_wire({}) == config


@pytest.mark.parametrize(
    ("field", "value", "wire"),
    [
        ("temperature", 3.5, "temperature"),
        ("top_k", 0, "topK"),
        ("top_k", 1001, "topK"),
        ("guidance", -0.1, "guidance"),
        ("bpm", 59, "bpm"),
        ("bpm", 201, "bpm"),
        ("density", 1.2, "density"),
        ("brightness", -1.0, "brightness"),
        ("seed", 2**31, "seed"),
    ],
)
def test_out_of_range_names_the_wire_field(field: str, value: float, wire: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate(MusicConfig(**{field: value}))  # type: ignore[arg-type]
    assert wire in caught.value.reason
    assert caught.value.code == 1007


def test_wire_config_in_camel_and_snake_case() -> None:
    camel = config_from_wire(
        {
            "temperature": 1.3,
            "topK": 10,
            "seed": 7,
            "bpm": 90,
            "scale": "D_MAJOR_B_MINOR",
            "muteBass": True,
            "onlyBassAndDrums": False,
            "musicGenerationMode": "DIVERSITY",
        }
    )
    snake = config_from_wire(
        {
            "temperature": 1.3,
            "top_k": 10,
            "seed": 7,
            "bpm": 90,
            "scale": "d_major_b_minor",
            "mute_bass": True,
            "only_bass_and_drums": False,
            "music_generation_mode": "DIVERSITY",
        }
    )
    assert camel == snake
    assert camel.scale is Scale.D_MAJOR_B_MINOR and camel.top_k == 10 and camel.mute_bass
    cases: list[tuple[dict[str, object], str]] = [
        ({"bpm": 300}, "bpm"),
        ({"scale": "H_MAJOR"}, "scale"),
        ({"muteDrums": "yes"}, "muteDrums"),
        ({"topK": 2.5}, "topK"),
    ]
    for bad, wire in cases:
        with pytest.raises(InvalidArgument, match=wire):
            config_from_wire(bad)


def test_scales_are_the_api_names_with_their_pitch_classes() -> None:
    assert len(Scale) == 13
    assert scale_pitch_classes(Scale.C_MAJOR_A_MINOR) == frozenset({0, 2, 4, 5, 7, 9, 11})
    assert scale_pitch_classes(Scale.B_FLAT_MAJOR_G_MINOR) == frozenset({10, 0, 2, 3, 5, 7, 9})
    assert scale_pitch_classes(Scale.SCALE_UNSPECIFIED) is None


def test_prompts_are_checked() -> None:
    assert check_prompts([("jazz", 1)]) == [("jazz", 1.0)]
    for bad in ([], [("jazz", 0.0), ("rock", 0.0)], [("", 1.0)], [("jazz", float("nan"))]):
        with pytest.raises(InvalidArgument):
            check_prompts(bad)


def test_the_documented_styles_exist_and_are_picked_by_name() -> None:
    for name in [
        "minimal techno",
        "lo-fi hip hop piano",
        "ambient strings",
        "funk bass and drums",
        "bossa nova guitar",
        "jazz",
        "rock",
        "house",
        "piano",
    ]:
        assert name in STYLES
        weights = blend([(name, 1.0)])
        assert max(weights, key=weights.__getitem__) == name


def test_blends_are_normalised_and_any_words_give_styles() -> None:
    mixed = blend([("minimal techno", 2.0), ("piano", 1.0)])
    assert sum(mixed.values()) == pytest.approx(1.0)
    assert mixed["minimal techno"] > mixed["piano"] > 0.2
    assert "lo-fi hip hop piano" in blend([("chill study beats", 1.0)])
    assert blend([("zzqx vrrbl", 1.0)])  # no similar style at all: still some style
    assert blend([("jazz", 0.0)]) == {}
    sharp = sharpen(mixed, 6.0)
    assert sharp["minimal techno"] > mixed["minimal techno"]
    assert sharpen(mixed, 0.0) == pytest.approx(mixed)


def test_instrument_words_choose_programs() -> None:
    assert instrument_overrides([("bossa nova guitar", 1.0)]) == {"chords": 24}
    assert instrument_overrides([("jazz with a saxophone", 1.0)]) == {"melody": 65}


def test_missing_soundfont_names_the_apt_package() -> None:
    with pytest.raises(ConfigError, match=APT_PACKAGE):
        find_soundfont("/nonexistent/FluidR3_GM.sf2")


def test_a_stream_without_its_soundfont_refuses_to_start() -> None:
    from openlive.music.stream import MusicStream

    with pytest.raises(ConfigError, match=r"fluid-soundfont-gm|tinysoundfont"):
        MusicStream(soundfont="/nonexistent/FluidR3_GM.sf2")


def test_steering_never_waits_for_a_render() -> None:
    """A session's event loop steers the stream while a render thread holds it: the change
    is queued, not waited for, and applies, in order, before the next chunk."""
    import threading

    from openlive.music.config import MusicConfig
    from openlive.music.stream import MusicStream

    stream = MusicStream(prompts=[("piano", 1.0)])
    stream.next_chunk()
    done = threading.Event()

    def steer() -> None:
        stream.set_prompts([("techno", 1.0)])
        stream.set_config(MusicConfig(bpm=90))
        stream.set_config(MusicConfig(bpm=140))
        stream.reset_context()
        done.set()

    with stream._lock:  # a chunk rendering on another thread
        worker = threading.Thread(target=steer)
        worker.start()
        worker.join(timeout=10)
        assert done.is_set(), "steering waited for the render"
        assert stream.config.bpm == 140 and stream.prompts == [("techno", 1.0)]
        assert stream._composer._config.bpm is None  # nothing applied yet
    stream.next_chunk()
    assert stream._inbox == []
    # applied in order: the last config wins, and the reset made it the context's tempo
    assert stream._composer._config.bpm == 140
    assert stream._composer._context_config.bpm == 140
