from __future__ import annotations

import json

import pytest

from openlive.errors import InvalidArgument
from openlive.protocol import decode_client_message, encode_server_message, split_message
from openlive.protocol.codec import MAX_SERVER_MESSAGE
from openlive.types import Content, Part, ServerContent, ServerMessage, UsageMetadata


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
