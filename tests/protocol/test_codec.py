from __future__ import annotations

import json

import pytest

from openlive.errors import InvalidArgument
from openlive.protocol import decode_client_message, encode_server_message, split_message
from openlive.protocol.codec import MAX_SERVER_MESSAGE
from openlive.types import (
    ClientMessage,
    Content,
    Part,
    ServerContent,
    ServerMessage,
    UsageMetadata,
)


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ("{}", "none of the known fields"),
        ('{"clientContent": {}, "realtimeInput": {}}', "send one"),
        ('{"clientContent": {"turns": 5}}', "clientContent.turns"),
        ('{"realtimeInput": {"audio": {"data": "!!!"}}}', "realtimeInput.audio.data"),
        ('{"clientContent": {"turnComplete": "maybe"}}', "turnComplete"),
        ('{"setup": {"generationConfig": {"temperature": "hot"}}}', "temperature"),
    ],
)
def test_bad_frames_name_the_problem(frame: str, needle: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        decode_client_message(frame)
    assert info.value.code == 1007
    assert needle in info.value.reason
    assert len(info.value.reason.encode()) <= 123


def test_lenient_numbers_and_unknown_fields() -> None:
    m = decode_client_message(
        json.dumps(
            {
                "setup": {
                    "model": "m",
                    "futureField": {"a": 1},
                    "generationConfig": {"topK": 40.0, "maxOutputTokens": "12"},
                }
            }
        )
    )
    assert m.setup.generation_config.top_k == 40
    assert m.setup.generation_config.max_output_tokens == 12


def test_free_form_maps_keep_their_keys() -> None:
    m = decode_client_message(
        json.dumps(
            {
                "tool_response": {
                    "function_responses": [
                        {"id": "1", "name": "f", "response": {"snake_key": 1, "camelKey": 2}}
                    ]
                }
            }
        )
    )
    assert m.tool_response.function_responses[0].response == {"snake_key": 1, "camelKey": 2}


def test_encode_camel_case_std_base64() -> None:
    msg = ServerMessage(
        server_content=ServerContent(
            model_turn=Content(
                role="model",
                parts=[
                    Part.model_validate(
                        {
                            "inlineData": {
                                "mimeType": "audio/pcm;rate=24000",
                                "data": b"\xff\xd8\xff",
                            }
                        }
                    )
                ],
            ),
            turn_complete=True,
        ),
        usage_metadata=UsageMetadata(prompt_token_count=3, response_token_count=2),
    )
    wire = json.loads(encode_server_message(msg))
    assert wire["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"] == "/9j/"
    assert wire["usageMetadata"] == {"promptTokenCount": 3, "responseTokenCount": 2}
    vertex = json.loads(encode_server_message(msg, vertex=True))
    assert vertex["usageMetadata"] == {"promptTokenCount": 3, "candidatesTokenCount": 2}


def test_split_keeps_every_message_under_one_mib() -> None:
    text = "x" * (3 * MAX_SERVER_MESSAGE)
    msg = ServerMessage(
        server_content=ServerContent(model_turn=Content(role="model", parts=[Part(text=text)]))
    )
    pieces = split_message(msg)
    assert len(pieces) > 1
    assert all(len(encode_server_message(p).encode()) < MAX_SERVER_MESSAGE for p in pieces)
    assert "".join(p.text or "" for p in pieces) == text


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("endOfSpeechSensitivity", "HIGH", "'HIGH' is not END_SENSITIVITY_HIGH or _LOW"),
        ("startOfSpeechSensitivity", "start_sensitivity_low", "START_SENSITIVITY_HIGH or _LOW"),
        ("endOfSpeechSensitivity", 7, "'7' is not END_SENSITIVITY_HIGH"),
    ],
)
def test_unknown_sensitivity_names_the_allowed_values(
    field: str, value: object, needle: str
) -> None:
    aad = {"automaticActivityDetection": {field: value}}
    with pytest.raises(InvalidArgument) as info:
        decode_client_message(json.dumps({"setup": {"realtimeInputConfig": aad}}))
    assert info.value.code == 1007
    assert f"automaticActivityDetection.{field}" in info.value.reason
    assert needle in info.value.reason
    assert len(info.value.reason.encode()) <= 123
    assert not info.value.reason.endswith("...")  # the whole reason fits a close frame


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("turnCoverage", "ALL", "TURN_INCLUDES_ONLY_ACTIVITY, _ALL_INPUT or _AUDIO_ACTIVITY_AND"),
        ("activityHandling", "NONE", "'NONE' is not START_OF_ACTIVITY_INTERRUPTS or NO_INTERR"),
    ],
)
def test_unknown_realtime_input_enums_are_refused(field: str, value: str, needle: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        decode_client_message(json.dumps({"setup": {"realtimeInputConfig": {field: value}}}))
    assert needle in info.value.reason
    assert not info.value.reason.endswith("...")


def test_enums_arrive_as_names_or_numbers() -> None:
    aad = {"endOfSpeechSensitivity": 2, "startOfSpeechSensitivity": "START_SENSITIVITY_HIGH"}
    ric = {"automaticActivityDetection": aad, "turnCoverage": 3, "activityHandling": 2}
    setup = decode_client_message(json.dumps({"setup": {"realtimeInputConfig": ric}})).setup
    assert setup is not None and setup.realtime_input_config is not None
    config = setup.realtime_input_config
    assert config.turn_coverage == "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO"
    assert config.activity_handling == "NO_INTERRUPTION"
    assert config.automatic_activity_detection is not None
    assert config.automatic_activity_detection.end_of_speech_sensitivity == "END_SENSITIVITY_LOW"
    assert config.automatic_activity_detection.start_of_speech_sensitivity == (
        "START_SENSITIVITY_HIGH"
    )


def test_the_message_fields_tuple_matches_the_model() -> None:
    from openlive.types.client_messages import _MESSAGE_FIELDS

    assert tuple(ClientMessage.model_fields) == _MESSAGE_FIELDS
