"""The session state machine, driven with no sockets and no models."""

from __future__ import annotations

import json

import pytest

from openlive.errors import InvalidArgument
from openlive.session import (
    BeginUtterance,
    CancelGeneration,
    Close,
    GenerationDone,
    GenerationFailed,
    LiveSession,
    PushAudio,
    Send,
    StartGeneration,
    TextDelta,
    parse_pcm_rate,
)
from openlive.types import ClientMessage, Setup


def make(setup: dict | None = None) -> tuple[LiveSession, list]:
    data = {"model": "models/x", "generationConfig": {"responseModalities": ["TEXT"]}}
    data.update(setup or {})
    session = LiveSession.create("sid-1", "x", Setup.model_validate(data), now=0.0)
    return session, session.start()


def msg(data: dict) -> ClientMessage:
    return ClientMessage.model_validate(data)


def user(text: str, complete: bool = True) -> ClientMessage:
    return msg(
        {
            "clientContent": {
                "turns": [{"role": "user", "parts": [{"text": text}]}],
                "turnComplete": complete,
            }
        }
    )


def sent(actions: list) -> list[dict]:
    return [a.message.to_wire() for a in actions if isinstance(a, Send)]


def test_setup_complete_is_first_and_carries_session_id() -> None:
    _, actions = make()
    assert sent(actions) == [{"setupComplete": {"sessionId": "sid-1"}}]


def test_text_turn_order_and_usage() -> None:
    s, _ = make({"systemInstruction": {"parts": [{"text": "be brief"}]}})
    actions = s.receive_client(user("Hi"), 1.0)
    (start,) = [a for a in actions if isinstance(a, StartGeneration)]
    req = start.request
    assert req.system == "be brief"
    assert [(m.role, m.text) for m in req.messages] == [("user", "Hi")]
    out = s.receive_engine(TextDelta(req.turn_id, "Hel"), 1.1)
    out += s.receive_engine(TextDelta(req.turn_id, "lo"), 1.2)
    out += s.receive_engine(GenerationDone(req.turn_id, 12, 2), 1.3)
    wire = sent(out)
    assert wire[0] == {
        "serverContent": {"modelTurn": {"role": "model", "parts": [{"text": "Hel"}]}}
    }
    assert wire[2] == {"serverContent": {"generationComplete": True}}
    assert wire[3]["serverContent"] == {"turnComplete": True}
    assert wire[3]["usageMetadata"]["promptTokenCount"] == 12
    assert wire[3]["usageMetadata"]["responseTokenCount"] == 2
    assert wire[3]["usageMetadata"]["totalTokenCount"] == 14
    assert [c.text for c in s.state.history] == ["Hi", "Hello"]


def test_multi_turn_memory_and_prefill_with_model_turns() -> None:
    s, _ = make()
    s.receive_client(
        msg(
            {
                "clientContent": {
                    "turns": [
                        {"role": "user", "parts": [{"text": "My name is Ada."}]},
                        {"role": "model", "parts": [{"text": "Hello Ada."}]},
                    ],
                    "turnComplete": False,
                }
            }
        ),
        0.5,
    )
    assert not s.generating
    actions = s.receive_client(user("What is my name?"), 1.0)
    (start,) = [a for a in actions if isinstance(a, StartGeneration)]
    assert [(m.role, m.text) for m in start.request.messages] == [
        ("user", "My name is Ada."),
        ("assistant", "Hello Ada."),
        ("user", "What is my name?"),
    ]


def test_interruption_keeps_only_sent_text() -> None:
    s, _ = make()
    (start,) = [
        a for a in s.receive_client(user("tell a story"), 1) if isinstance(a, StartGeneration)
    ]
    s.receive_engine(TextDelta(start.request.turn_id, "Once upon"), 2)
    actions = s.receive_client(user("stop"), 3)
    assert isinstance(actions[0], CancelGeneration)
    assert sent(actions)[:2] == [
        {"serverContent": {"interrupted": True}},
        {"serverContent": {"turnComplete": True}},
    ]
    assert [c.text for c in s.state.history] == ["tell a story", "Once upon", "stop"]
    # late events of the interrupted turn are ignored
    assert s.receive_engine(TextDelta(start.request.turn_id, " a time"), 4) == []
    new = [a for a in actions if isinstance(a, StartGeneration)]
    assert new and new[0].request.turn_id != start.request.turn_id


def test_realtime_text_starts_a_turn_and_interrupts() -> None:
    s, _ = make()
    a1 = s.receive_client(msg({"realtimeInput": {"text": "hello"}}), 1)
    assert any(isinstance(a, StartGeneration) for a in a1)
    a2 = s.receive_client(msg({"realtimeInput": {"text": "again"}}), 2)
    assert {"serverContent": {"interrupted": True}} in sent(a2)


def test_realtime_text_waits_under_no_interruption() -> None:
    s, _ = make({"realtimeInputConfig": {"activityHandling": "NO_INTERRUPTION"}})
    (start,) = [
        a
        for a in s.receive_client(msg({"realtimeInput": {"text": "one"}}), 1)
        if isinstance(a, StartGeneration)
    ]
    assert s.receive_client(msg({"realtimeInput": {"text": "two"}}), 2) == []
    done = s.receive_engine(GenerationDone(start.request.turn_id, 1, 1), 3)
    assert any(isinstance(a, StartGeneration) for a in done)


def test_manual_activity_brackets_text() -> None:
    s, _ = make({"realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}})
    assert s.receive_client(msg({"realtimeInput": {"activityStart": {}}}), 1) == [BeginUtterance(1)]
    assert s.receive_client(msg({"realtimeInput": {"text": "what is"}}), 2) == []
    s.receive_client(msg({"realtimeInput": {"text": "two plus two"}}), 3)
    actions = s.receive_client(msg({"realtimeInput": {"activityEnd": {}}}), 4)
    (start,) = [a for a in actions if isinstance(a, StartGeneration)]
    assert start.request.messages[-1].text == "what is two plus two"


def test_activity_markers_refused_with_automatic_detection() -> None:
    s, _ = make()
    actions = s.receive_client(msg({"realtimeInput": {"activityStart": {}}}), 1)
    assert isinstance(actions[-1], Close) and actions[-1].code == 1007
    assert "automaticActivityDetection" in actions[-1].reason


def test_unsupported_audio_mime_closes_1007() -> None:
    s, _ = make()
    actions = s.receive_client(
        msg({"realtimeInput": {"audio": {"mimeType": "audio/ogg", "data": "AAAA"}}}), 1
    )
    assert isinstance(actions[-1], Close) and actions[-1].code == 1007
    assert "audio/ogg" in actions[-1].reason


def test_audio_goes_to_the_engine_with_its_rate() -> None:
    s, _ = make()
    a1 = s.receive_client(
        msg({"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=24000", "data": "AQIBAg=="}}}),
        1,
    )
    a2 = s.receive_client(msg({"realtimeInput": {"mediaChunks": [{"data": "AQI="}]}}), 2)
    assert a1 == [PushAudio(b"\x01\x02\x01\x02", 24000, detect=True)]
    assert a2 == [PushAudio(b"\x01\x02", 16000, detect=True)]


def test_engine_failure_closes_1011() -> None:
    s, _ = make()
    (start,) = [a for a in s.receive_client(user("x"), 1) if isinstance(a, StartGeneration)]
    actions = s.receive_engine(GenerationFailed(start.request.turn_id, "boom"), 2)
    assert isinstance(actions[-1], Close) and actions[-1].code == 1011
    assert "boom" in actions[-1].reason


def test_tool_response_without_call_is_refused() -> None:
    s, _ = make()
    actions = s.receive_client(
        msg({"toolResponse": {"functionResponses": [{"id": "fc-1", "name": "f", "response": {}}]}}),
        1,
    )
    assert isinstance(actions[-1], Close) and actions[-1].code == 1007


def test_second_setup_is_refused() -> None:
    s, _ = make()
    actions = s.receive_client(msg({"setup": {"model": "models/x"}}), 1)
    assert isinstance(actions[-1], Close) and actions[-1].code == 1007


def test_context_update_changes_system_instruction() -> None:
    s, _ = make()
    s.receive_client(
        msg({"contextUpdate": {"systemInstruction": {"parts": [{"text": "New"}]}, "tools": {}}}), 1
    )
    (start,) = [a for a in s.receive_client(user("x"), 2) if isinstance(a, StartGeneration)]
    assert start.request.system == "New"


def test_state_round_trips_through_json_mid_turn() -> None:
    s, _ = make({"generationConfig": {"responseModalities": ["TEXT"], "temperature": 0.2}})
    (start,) = [a for a in s.receive_client(user("count"), 1) if isinstance(a, StartGeneration)]
    s.receive_engine(TextDelta(start.request.turn_id, "1 2"), 2)
    restored = LiveSession.from_json(s.to_json())
    assert json.loads(restored.to_json()) == json.loads(s.to_json())
    out = restored.receive_engine(GenerationDone(start.request.turn_id, 3, 2), 3)
    assert sent(out)[-1]["serverContent"] == {"turnComplete": True}
    assert restored.state.setup.generation_config.temperature == 0.2


def test_sampling_params_reach_the_request() -> None:
    s, _ = make(
        {
            "generationConfig": {
                "responseModalities": ["TEXT"],
                "temperature": 0.3,
                "topP": 0.5,
                "topK": 7.0,
                "maxOutputTokens": "64",
                "seed": 9,
                "presencePenalty": 0.1,
                "frequencyPenalty": 0.2,
                "stopSequences": ["END"],
            }
        }
    )
    (start,) = [a for a in s.receive_client(user("x"), 1) if isinstance(a, StartGeneration)]
    p = start.request.params
    assert (p.temperature, p.top_p, p.top_k, p.max_tokens, p.seed) == (0.3, 0.5, 7, 64, 9)
    assert (p.presence_penalty, p.frequency_penalty, p.stop) == (0.1, 0.2, ("END",))


@pytest.mark.parametrize(
    ("mime", "rate"),
    [
        (None, 16000),
        ("audio/pcm", 16000),
        ("audio/pcm;rate=24000", 24000),
        ("audio/pcm; rate=8000", 8000),
    ],
)
def test_pcm_rates(mime: str | None, rate: int) -> None:
    assert parse_pcm_rate(mime) == rate


def test_bad_pcm_rate() -> None:
    with pytest.raises(InvalidArgument):
        parse_pcm_rate("audio/pcm;rate=abc")


# ---- voice ----

from openlive.session import (  # noqa: E402
    EndUtterance,
    FinishSpeech,
    Play,
    Speak,
    SpeechAudio,
    SpeechFinished,
    SpeechReady,
    StopSpeech,
    StoreAudio,
    UserTranscript,
    VoiceActivity,
)

SPEECH = VoiceActivity((0.9, 0.9))
SILENCE = VoiceActivity((0.1,) * 17)  # 544 ms: past the default 500 ms


def utter(s: LiveSession, text: str, now: float) -> list:
    """Speech starts and ends (VAD output), then recognition answers: the final actions."""
    began = s.receive_engine(SPEECH, now)
    (begin,) = [a for a in began if isinstance(a, BeginUtterance)]
    ended = s.receive_engine(SILENCE, now)
    assert EndUtterance(begin.utterance) in ended
    return s.receive_engine(UserTranscript(begin.utterance, text, True), now)


def voice(**extra: object) -> LiveSession:
    data = {
        "model": "models/x",
        "generationConfig": {"responseModalities": ["AUDIO"]},
        "inputAudioTranscription": {},
        "outputAudioTranscription": {},
        **extra,
    }
    session = LiveSession.create("v", "x", Setup.model_validate(data), now=0.0)
    session.start()
    return session


def test_transcript_starts_a_spoken_reply_with_transcriptions() -> None:
    s = voice()
    s.receive_engine(SPEECH, 0.2)
    interim = s.receive_engine(UserTranscript(1, "what is", False), 0.5)
    assert {"serverContent": {"interimInputTranscription": {"text": "what is"}}} in sent(interim)
    assert s.receive_engine(SILENCE, 0.9)[-1] == EndUtterance(1)
    actions = s.receive_engine(UserTranscript(1, "What is the capital of France?", True), 1.0)
    assert sent(actions)[0] == {
        "serverContent": {
            "inputTranscription": {"text": "What is the capital of France?", "finished": True}
        }
    }
    (start,) = [a for a in actions if isinstance(a, StartGeneration)]
    turn = start.request.turn_id
    out = s.receive_engine(TextDelta(turn, "The capital of France is Paris. It is"), 1.1)
    assert [a.text for a in out if isinstance(a, Speak)] == ["The capital of France is Paris."]
    assert not sent(out)  # AUDIO only: no text parts
    out = s.receive_engine(GenerationDone(turn, 20, 9), 1.2)
    assert [a.text for a in out if isinstance(a, Speak)] == ["It is"]
    assert isinstance(out[-1], FinishSpeech)
    seg = s.receive_engine(SpeechReady(turn, "The capital of France is Paris.", 2.0), 1.3)
    assert sent(seg) == [
        {"serverContent": {"outputTranscription": {"text": "The capital of France is Paris."}}}
    ]
    assert seg[-1] == Play(turn, 1.3)
    seg = s.receive_engine(SpeechReady(turn, "It is", 0.5), 1.4)
    # a client that concatenates the pieces reads "...Paris. It is", not "...Paris.It is"
    assert sent(seg)[0]["serverContent"]["outputTranscription"]["text"] == " It is"
    assert seg[-1] == Play(turn, 3.3)  # after the first piece on the playback clock
    audio = sent(s.receive_engine(SpeechAudio(turn, b"\x00\x00" * 4), 1.3))
    assert audio[0]["serverContent"]["modelTurn"]["parts"][0]["inlineData"] == {
        "mimeType": "audio/pcm;rate=24000",
        "data": "AAAAAAAAAAA=",
    }
    done = sent(s.receive_engine(SpeechFinished(turn), 3.0))
    assert done[0] == {"serverContent": {"generationComplete": True}}
    assert done[1]["serverContent"] == {"turnComplete": True}
    assert done[1]["usageMetadata"]["responseTokensDetails"][0]["modality"] == "AUDIO"


def test_barge_in_keeps_only_what_was_heard() -> None:
    s = voice()
    (start,) = [a for a in utter(s, "tell a story", 0.0) if isinstance(a, StartGeneration)]
    turn = start.request.turn_id
    s.receive_engine(TextDelta(turn, "One two three four. Five six seven eight. Nine"), 0.1)
    s.receive_engine(SpeechReady(turn, "One two three four.", 2.0), 10.0)
    s.receive_engine(SpeechReady(turn, "Five six seven eight.", 2.0), 10.5)
    actions = s.receive_engine(SPEECH, 13.0)  # half of the second piece heard
    assert isinstance(actions[1], CancelGeneration) and isinstance(actions[2], StopSpeech)
    assert sent(actions) == [
        {"serverContent": {"interrupted": True}},
        {"serverContent": {"turnComplete": True}},
    ]
    assert s.state.history[-1].text == "One two three four. Five six"
    # stale audio of the old reply is dropped
    assert s.receive_engine(SpeechAudio(turn, b"\x00\x00"), 13.1) == []


def test_no_interruption_lets_the_reply_finish() -> None:
    s = voice(realtimeInputConfig={"activityHandling": "NO_INTERRUPTION"})
    utter(s, "first", 0.0)
    assert s.receive_engine(SPEECH, 1.0) == [BeginUtterance(2), StoreAudio("utterance")]
    assert s.generating


def test_both_modalities_send_text_and_speech() -> None:
    s = voice(generationConfig={"responseModalities": ["TEXT", "AUDIO"]})
    (start,) = [a for a in utter(s, "hi", 0.0) if isinstance(a, StartGeneration)]
    out = s.receive_engine(TextDelta(start.request.turn_id, "Hello there. "), 0.1)
    assert any(isinstance(a, Speak) for a in out)
    assert sent(out)[0]["serverContent"]["modelTurn"]["parts"] == [{"text": "Hello there. "}]


def test_empty_transcript_starts_nothing() -> None:
    s = voice()
    assert not [a for a in utter(s, "  ", 0.0) if isinstance(a, StartGeneration)]
