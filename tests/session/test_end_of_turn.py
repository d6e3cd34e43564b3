"""The semantic end-of-turn rule in the core: when the end-of-turn model is asked, what its
answers do, and how client settings choose between it and the fixed silence."""

from __future__ import annotations

from openlive.session import (
    EndpointerSettings,
    EndUtterance,
    LiveSession,
    ScoreTurn,
    Speculate,
    TurnScore,
    UserTranscript,
    VoiceActivity,
)
from openlive.session.activity import FRAME_MS, SEMANTIC_CAP_MS, SEMANTIC_FLOOR_MS
from openlive.session.listening import dangles, ends_sentence
from openlive.types import Setup
from openlive.types.config import AudioTranscriptionConfig

SPEECH = VoiceActivity((0.9,) * 3)


def session(semantic: bool = True, **aad: object) -> LiveSession:
    data: dict[str, object] = {
        "model": "models/x",
        "generationConfig": {"responseModalities": ["AUDIO"]},
    }
    if aad:
        data["realtimeInputConfig"] = {"automaticActivityDetection": aad}
    s = LiveSession.create("s", "x", Setup.model_validate(data), now=0.0)
    s.state.voice.semantic = semantic
    s.start()
    return s


def silence(s: LiveSession, frames: int) -> list[object]:
    out: list[object] = []
    for _ in range(frames):
        out.extend(s.receive_engine(VoiceActivity((0.05,)), 0.0))
    return out


def of(kind: type, actions: list[object]) -> list[object]:
    return [a for a in actions if isinstance(a, kind)]


def test_settings_choose_the_rule() -> None:
    setup = Setup.model_validate({"model": "m"})
    assert EndpointerSettings.from_setup(setup, semantic=True).semantic
    assert not EndpointerSettings.from_setup(setup, semantic=False).semantic
    fixed = Setup.model_validate(
        {
            "model": "m",
            "realtimeInputConfig": {"automaticActivityDetection": {"silenceDurationMs": 300}},
        }
    )
    settings = EndpointerSettings.from_setup(fixed, semantic=True)
    assert not settings.semantic and settings.silence_ms == 300  # the client's choice wins
    low = Setup.model_validate(
        {
            "model": "m",
            "realtimeInputConfig": {
                "automaticActivityDetection": {"endOfSpeechSensitivity": "END_SENSITIVITY_LOW"}
            },
        }
    )
    high = Setup.model_validate(
        {
            "model": "m",
            "realtimeInputConfig": {
                "automaticActivityDetection": {"endOfSpeechSensitivity": "END_SENSITIVITY_HIGH"}
            },
        }
    )
    base = EndpointerSettings.from_setup(setup, semantic=True)
    assert base.text_ends  # the model and the transcript
    sooner = EndpointerSettings.from_setup(high, semantic=True)
    assert sooner.text_ends and sooner.finish_threshold < base.finish_threshold
    fewer_cuts = EndpointerSettings.from_setup(low, semantic=True)
    assert not fewer_cuts.text_ends  # the model alone
    # the pause between two sentences is shorter than the default floor, not than HIGH's
    assert sooner.floor_ms < base.floor_ms == fewer_cuts.floor_ms == SEMANTIC_FLOOR_MS


def test_a_finished_answer_ends_the_turn_early_and_keeps_the_speculation() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    asked = silence(s, 5)  # 160 ms: the model is asked, and recognition starts
    (score,) = of(ScoreTurn, asked)
    assert of(Speculate, asked)
    assert not of(EndUtterance, asked)
    # finished, but a comma's pause is shorter than the floor: it ends when the floor is reached
    assert s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.97), 0.0) == []
    assert not of(EndUtterance, spoken(s, "I would like to know the time"))  # no mark
    frames = SEMANTIC_FLOOR_MS // FRAME_MS - 5
    waited = silence(s, frames)
    assert not of(EndUtterance, waited[:-1])
    assert waited[-1] == EndUtterance(score.utterance, reuse_speculation=True)


def test_a_finished_answer_late_in_the_silence_ends_the_turn_at_once() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    (score,) = of(ScoreTurn, silence(s, 5))
    spoken(s, "I would like to know the time")
    silence(s, SEMANTIC_FLOOR_MS // FRAME_MS)  # the answer is late (a busy machine)
    ended = s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.97), 0.0)
    assert ended[-1] == EndUtterance(score.utterance, reuse_speculation=True)


def test_a_finished_answer_waits_for_the_transcript_on_its_way() -> None:
    # the reply is written from that transcript anyway, and it may stop mid-clause
    s = session()
    s.receive_engine(SPEECH, 0.0)
    (score,) = of(ScoreTurn, silence(s, 5))
    s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.97), 0.0)
    assert not of(EndUtterance, silence(s, SEMANTIC_FLOOR_MS // FRAME_MS))
    ended = spoken(s, "I would like to know the time")  # in: the model's word holds
    assert of(EndUtterance, ended) == [EndUtterance(score.utterance, reuse_speculation=True)]
    # under END_SENSITIVITY_LOW the transcript is no signal: the model's word is enough
    s = session(endOfSpeechSensitivity="END_SENSITIVITY_LOW")
    s.receive_engine(SPEECH, 0.0)
    (score,) = of(ScoreTurn, silence(s, 5))
    s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.97), 0.0)
    assert of(EndUtterance, silence(s, SEMANTIC_FLOOR_MS // FRAME_MS))


def test_an_unfinished_answer_waits_and_asks_again_until_the_cap() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    (score,) = of(ScoreTurn, silence(s, 5))
    assert s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.1), 0.0) == []
    more = silence(s, 300 // FRAME_MS)  # asked again while the silence holds
    again = of(ScoreTurn, more)
    assert again and not of(EndUtterance, more)
    s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.2), 0.0)
    # nothing ends it but the cap
    rest = silence(s, SEMANTIC_CAP_MS // FRAME_MS)
    assert of(EndUtterance, rest)


def test_speech_after_the_question_makes_the_answer_stale() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    (score,) = of(ScoreTurn, silence(s, 5))
    s.receive_engine(SPEECH, 0.0)  # the user goes on ("for ... four people")
    assert s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.99), 0.0) == []
    assert s.state.voice.collecting


def test_no_model_falls_back_to_the_fixed_silence() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    (score,) = of(ScoreTurn, silence(s, 5))
    s.receive_engine(TurnScore(score.utterance, score.last_voice, -1.0), 0.0)
    assert not s.state.voice.semantic
    assert of(EndUtterance, silence(s, 500 // FRAME_MS))


def test_without_the_model_nothing_is_asked() -> None:
    s = session(semantic=False)
    s.receive_engine(SPEECH, 0.0)
    out = silence(s, 500 // FRAME_MS + 1)
    assert not of(ScoreTurn, out) and of(EndUtterance, out)


def test_a_client_silence_setting_turns_the_model_off() -> None:
    s = session(silenceDurationMs=300)
    s.receive_engine(SPEECH, 0.0)
    out = silence(s, 300 // FRAME_MS + 1)
    assert not of(ScoreTurn, out) and of(EndUtterance, out)


def spoken(s: LiveSession, text: str) -> list[object]:
    """The speculative transcript of the utterance so far arrives."""
    utterance = s.state.voice.utterance
    return s.receive_engine(UserTranscript(utterance, text, final=False, speculative=True), 0.0)


def test_a_transcript_that_ends_a_sentence_ends_the_turn_at_the_floor() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    asked = silence(s, 5)
    (score,) = of(ScoreTurn, asked)
    s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.2), 0.0)  # model unsure
    assert not of(EndUtterance, spoken(s, "What is two plus two?"))  # before the floor
    waited = silence(s, SEMANTIC_FLOOR_MS // FRAME_MS - 5)
    assert waited[-1] == EndUtterance(score.utterance, reuse_speculation=True)


def test_a_transcript_after_the_floor_ends_the_turn_at_once() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    silence(s, SEMANTIC_FLOOR_MS // FRAME_MS + 1)  # recognition was slow
    ended = spoken(s, "Book a table for four people.")
    assert of(EndUtterance, ended) == [EndUtterance(s.state.voice.utterance, True)]


def test_an_open_transcript_leaves_the_turn_to_the_model_and_the_cap() -> None:
    for text in ("I'd like to book a table for", "Well, I was wondering...", "Let me think…"):
        s = session()
        s.receive_engine(SPEECH, 0.0)
        silence(s, 5)
        spoken(s, text)
        assert not of(EndUtterance, silence(s, 600 // FRAME_MS)), text
        assert s.state.voice.collecting


def test_a_transcript_stopping_mid_clause_overrules_the_models_finished() -> None:
    # Whisper writes "for." at the pause in "a table for ... four people", and smart-turn
    # often says "finished" there: the turn waits for the user (or the cap)
    for text in ("I'd like to book a table for.", "So um", "We could go to the beach or."):
        s = session()
        s.receive_engine(SPEECH, 0.0)
        (score,) = of(ScoreTurn, silence(s, 5))
        assert not of(EndUtterance, spoken(s, text))
        assert s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.99), 0.0) == []
        quiet = 5
        while not of(EndUtterance, silence(s, 1)):
            quiet += 1
            assert quiet * FRAME_MS <= SEMANTIC_CAP_MS, text
        assert (quiet + 1) * FRAME_MS >= SEMANTIC_CAP_MS, (text, quiet)  # the cap, no sooner
    # the transcript after the model's "finished" (past the floor) vetoes it just the same
    s = session()
    s.receive_engine(SPEECH, 0.0)
    (score,) = of(ScoreTurn, silence(s, 5))
    s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.99), 0.0)
    silence(s, SEMANTIC_FLOOR_MS // FRAME_MS)
    assert not of(EndUtterance, spoken(s, "Send a message to."))
    assert s.state.voice.collecting
    # without the transcript as a signal (END_SENSITIVITY_LOW), or in another language, the
    # model's word is not vetoed
    for low, language in ((True, None), (False, "de-DE")):
        extra: dict[str, object] = {"endOfSpeechSensitivity": "END_SENSITIVITY_LOW"} if low else {}
        s = session(**extra)
        if language:
            s.state.setup = s.state.setup.model_copy(
                update={
                    "input_audio_transcription": AudioTranscriptionConfig(languageCodes=[language])
                }
            )
        s.receive_engine(SPEECH, 0.0)
        (score,) = of(ScoreTurn, silence(s, 5))
        spoken(s, "Ruf mich an.")
        s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.99), 0.0)
        assert of(EndUtterance, silence(s, SEMANTIC_FLOOR_MS // FRAME_MS)), (low, language)
    # the model's "finished" still ends a turn whose transcript does not stop mid-clause
    s = answered("Turn the lights on in the kitchen", 0.99)
    assert of(EndUtterance, silence(s, SEMANTIC_FLOOR_MS // FRAME_MS))


def answered(text: str | None, probability: float) -> LiveSession:
    """A session 160 ms into a silence: its speculative transcript ``text`` in (unless None),
    then the end-of-turn model's answer."""
    s = session()
    s.receive_engine(SPEECH, 0.0)
    (score,) = of(ScoreTurn, silence(s, 5))
    if text is not None:
        spoken(s, text)
    s.receive_engine(TurnScore(score.utterance, score.last_voice, probability), 0.0)
    return s


def test_the_model_is_not_asked_again_once_its_answer_holds() -> None:
    # "finished", and the turn waits for the transcript on its way: no more questions
    s = answered(None, 0.97)
    assert not of(ScoreTurn, silence(s, 600 // FRAME_MS))
    # the transcript stops mid-clause: nothing the model says can end the turn before the cap
    s = answered("I'd like to book a table for.", 0.1)
    assert not of(ScoreTurn, silence(s, 600 // FRAME_MS))
    # "not finished" and no veto: asked again while the silence holds
    s = answered("I would like to know the time", 0.1)
    assert of(ScoreTurn, silence(s, 600 // FRAME_MS))


def test_the_mid_clause_veto_holds_only_for_that_silence() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    (first,) = of(ScoreTurn, silence(s, 5))
    spoken(s, "I'd like to book a table for.")
    s.receive_engine(TurnScore(first.utterance, first.last_voice, 0.99), 0.0)
    waited = silence(s, SEMANTIC_FLOOR_MS // FRAME_MS)  # past the floor
    assert not of(EndUtterance, waited)
    for again in of(ScoreTurn, waited):  # asked again meanwhile: still "finished"
        assert isinstance(again, ScoreTurn)
        s.receive_engine(TurnScore(again.utterance, again.last_voice, 0.99), 0.0)
    s.receive_engine(SPEECH, 0.0)  # "... four people."
    (score,) = of(ScoreTurn, silence(s, 5))
    spoken(s, "I'd like to book a table for four people")
    s.receive_engine(TurnScore(score.utterance, score.last_voice, 0.99), 0.0)
    assert of(EndUtterance, silence(s, SEMANTIC_FLOOR_MS // FRAME_MS))


def test_a_transcript_taken_before_the_user_went_on_is_stale() -> None:
    s = session()
    s.receive_engine(SPEECH, 0.0)
    silence(s, 5)
    s.receive_engine(SPEECH, 0.0)  # "... | four people"
    assert not of(EndUtterance, spoken(s, "I'd like to book a table."))
    assert not of(EndUtterance, silence(s, 4))
    assert s.state.voice.collecting


def test_low_end_sensitivity_does_not_take_the_transcripts_word_for_it() -> None:
    s = session(endOfSpeechSensitivity="END_SENSITIVITY_LOW")
    s.receive_engine(SPEECH, 0.0)
    silence(s, 5)
    spoken(s, "What is two plus two?")
    assert not of(EndUtterance, silence(s, 600 // FRAME_MS))


def test_a_client_silence_setting_ignores_the_transcript() -> None:
    s = session(silenceDurationMs=800)
    s.receive_engine(SPEECH, 0.0)
    silence(s, 5)
    spoken(s, "What is two plus two?")
    out = silence(s, 600 // FRAME_MS)
    assert not of(EndUtterance, out)


def test_what_ends_a_sentence() -> None:
    for text in ("Hi.", "Is it? ", "Stop!", "你好。", "ok\uff1f"):
        assert ends_sentence(text), text
    for text in ("", "I want to", "So um...", "and then…", "the number 5,"):
        assert not ends_sentence(text), text


def test_what_dangles() -> None:
    for text in (
        "I'd like to book a table for",
        "So um",
        "table for -",
        "for\u2014",
        "the \u2018for\u2019.",
        'a table for."',
        "Send a message to...",
        "What is this for.",
    ):
        assert dangles(text), text
    for text in (
        "",
        ".",
        "Where are you from?",
        "Where are you from\uff1f",
        "What is this for?!",
        "Yes, I'd love to.",
        "Kind of.",
        "The answer is A.",
        "Turn it on.",
        "\u4f60\u597d\u3002",
    ):
        assert not dangles(text), text
    assert not ends_sentence(".") and not ends_sentence("?")  # a mark alone is noise
    assert ends_sentence("Ruf mich an.", english=False)


def test_a_sentence_mark_after_a_dangling_word_is_a_pause() -> None:
    # what Whisper writes at a pause inside a clause: a period after a word no sentence ends on
    for text in (
        "I'd like to book a table for.",
        "So um.",
        "Can you tell me what time the.",
        "I want to order a large pizza with!",
        "We could go to the beach or.",
        "I need to buy eggs, milk and.",
        "Send a message to.",
        "Is it the?",
        "Well, uh.",
    ):
        assert not ends_sentence(text), text
    # the same words ending a question, and particles ending a command, do end it
    for text in (
        "Where are you from?",
        "What is this for?",
        "Please turn the lights on.",
        "Log in.",
        "I'd like a table for four.",
        "Call my sister at six.",
        "It's over \u201cthere\u201d.",
    ):
        assert ends_sentence(text), text
