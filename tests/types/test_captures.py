"""Every message the official SDKs sent (the captures) parses, with the right values."""

from __future__ import annotations

import pytest

from openlive.errors import InvalidArgument
from openlive.protocol import decode_client_message
from openlive.session import FIELD_TREATMENT, LiveSession, Treatment, review_setup
from openlive.session.window import compression_limits
from openlive.types import ClientMessage, MusicClientMessage, Setup

from ..helpers import OBSERVED, capture_records, client_frames

LIVE = ["python_sdk_live.jsonl", "js_sdk_live.jsonl"]
MUSIC = ["python_sdk_music.jsonl", "js_sdk_music.jsonl"]


def test_captures_are_present() -> None:
    assert all((OBSERVED / n).is_file() for n in LIVE + MUSIC)


@pytest.mark.parametrize("name", LIVE)
def test_every_live_frame_parses(name: str) -> None:
    import json

    frames = list(client_frames(name))
    assert len(frames) > 20
    for data in frames:
        message = decode_client_message(json.dumps(data))
        assert message.kind in (
            "setup",
            "client_content",
            "realtime_input",
            "tool_response",
            "context_update",
        )


@pytest.mark.parametrize("name", MUSIC)
def test_every_music_frame_parses(name: str) -> None:
    for data in client_frames(name):
        message = MusicClientMessage.model_validate(data)
        assert message.model_fields_set


def _rich_setups() -> list[Setup]:
    out = []
    for name in LIVE:
        for data in client_frames(name):
            if "setup" in data and "tools" in data["setup"] and "speechConfig" in str(data):
                out.append(Setup.model_validate(data["setup"]))
    return out


def test_rich_setup_values_both_casings() -> None:
    setups = _rich_setups()
    assert len(setups) >= 2
    for setup in setups:
        gc = setup.generation_config
        assert gc is not None and gc.response_modalities == ["AUDIO"]
        assert gc.top_k == 40 and gc.seed == 42 and gc.temperature == 0.7
        assert gc.speech_config.voice_config.prebuilt_voice_config.voice_name == "Kore"
        assert gc.speech_config.language_code == "en-US"
        aad = setup.realtime_input_config.automatic_activity_detection
        assert aad.start_of_speech_sensitivity == "START_SENSITIVITY_LOW"
        assert aad.prefix_padding_ms == 20 and aad.silence_duration_ms == 100
        assert setup.realtime_input_config.activity_handling == "NO_INTERRUPTION"
        cwc = setup.context_window_compression
        assert cwc.trigger_tokens == 25600 and cwc.sliding_window.target_tokens == 12800
        assert setup.proactivity.proactive_audio is True
        assert setup.session_resumption.handle == "prev-handle"
        decl = setup.tools[-1].function_declarations or setup.tools[0].function_declarations
        assert decl[0].name == "turn_on_the_lights"
        assert decl[0].parameters["properties"]["room"]["type"] == "STRING"
        assert setup.instruction_text() == "You are a helpful assistant."


def _paths(value: object, prefix: str = "") -> set[str]:
    """Every key path in the raw JSON, camelCased, stopping at free-form maps."""
    from pydantic.alias_generators import to_camel

    out: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}{to_camel(key)}"
            out.add(path)
            if path not in FIELD_TREATMENT and path not in ("tools",):
                out |= _paths(inner, path + ".")
    return out


def test_every_rich_field_has_a_treatment() -> None:
    """Each field of the rich captures is honoured, logged, or refused, never silently dropped."""
    for name in LIVE:
        for data in client_frames(name):
            if "setup" not in data:
                continue
            for path in _paths(data["setup"]):
                parents = [path.rsplit(".", i)[0] for i in range(path.count(".") + 1)]
                known = [p for p in parents if p in FIELD_TREATMENT]
                containers = {
                    "generationConfig",
                    "realtimeInputConfig",
                    "realtimeInputConfig.automaticActivityDetection",
                    "generationConfig.speechConfig",
                }
                assert known or path in containers, f"{name}: {path} has no treatment"


def test_rich_setup_refused_with_field_named() -> None:
    for setup in _rich_setups():
        review_setup(setup)  # every setup field of the captures is honoured or logged
        # compression as the SDKs send it (JS: int64 as strings), read the same
        assert compression_limits(setup, 131072) == (25600, 12800)
        with pytest.raises(InvalidArgument) as info:  # what is refused: the hosted tools
            LiveSession.create("sid", "m", setup, 0.0)
        assert "googleSearch is a Google-hosted tool" in info.value.reason


def test_quality_fields_are_logged_not_refused() -> None:
    setup = Setup.model_validate(
        {
            "model": "m",
            "generationConfig": {
                "responseModalities": ["TEXT"],
                "enableAffectiveDialog": True,
                "mediaResolution": "MEDIA_RESOLUTION_LOW",
                "thinkingConfig": {"thinkingBudget": 0},
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
            },
            "proactivity": {"proactiveAudio": True},
            "safetySettings": [{"category": "X"}],
        }
    )
    notes = review_setup(setup)
    for field in (
        "enableAffectiveDialog",
        "mediaResolution",
        "thinkingConfig",
        "proactivity",
        "safetySettings",
    ):
        assert any(field in n for n in notes), field


@pytest.mark.parametrize("field", ["avatarConfig"])
def test_output_changing_fields_refused(field: str) -> None:
    setup = Setup.model_validate(
        {"model": "m", "generationConfig": {"responseModalities": ["TEXT"]}, field: {}}
    )
    with pytest.raises(InvalidArgument, match=field):
        review_setup(setup)


def test_modalities() -> None:
    assert review_setup(Setup(model="m")) == []  # unset means AUDIO, which is served
    both = Setup.model_validate(
        {"model": "m", "generationConfig": {"responseModalities": ["TEXT", "AUDIO"]}}
    )
    assert review_setup(both) == []
    with pytest.raises(InvalidArgument, match="IMAGE"):
        review_setup(
            Setup.model_validate(
                {"model": "m", "generationConfig": {"responseModalities": ["IMAGE"]}}
            )
        )


def test_treatments_cover_all_kinds() -> None:
    kinds = set(FIELD_TREATMENT.values())
    assert {Treatment.HONOURED, Treatment.LOGGED, Treatment.REFUSED} <= kinds


def test_base64_both_alphabets_and_padding() -> None:
    py = ClientMessage.model_validate(
        {"realtime_input": {"video": {"data": "_9j_", "mime_type": "image/jpeg"}}}
    )
    js = ClientMessage.model_validate(
        {"realtimeInput": {"video": {"data": "/9j/", "mimeType": "image/jpeg"}}}
    )
    assert py.realtime_input.video.data == js.realtime_input.video.data == b"\xff\xd8\xff"
    unpadded = ClientMessage.model_validate({"realtimeInput": {"audio": {"data": "AQI"}}})
    assert unpadded.realtime_input.audio.data == b"\x01\x02"


def test_capture_connect_records_have_paths() -> None:
    paths = [r["path"] for n in LIVE for r in capture_records(n) if r["event"] == "connect"]
    assert len(paths) >= 15
