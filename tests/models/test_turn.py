"""The smart-turn end-of-turn model on real speech (espeak-ng voices, not the server's own)."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

from openlive.audio import SPEECH_RATE, read_wav, resample
from openlive.models.speech.turn import WINDOW_SAMPLES, SmartTurn, turn_features
from openlive.weights import SMART_TURN, ensure_weights

pytestmark = pytest.mark.model

QUESTION = "Can you tell me what time the <break time='800ms'/> museum opens tomorrow?"
VOICES = [("en-us", 150), ("en-gb+f3", 170), ("en-us+m3", 135)]
TAIL = np.zeros(SPEECH_RATE // 5, dtype=np.float32)
"""200 ms of silence after the words, about what the model is asked on."""


def speak(ssml: str, voice: str, speed: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-m", "-v", voice, "-s", str(speed), "-w", str(out), ssml],
            check=True,
            capture_output=True,
            timeout=30,
        )
        samples, rate = read_wav(out)
    return resample(samples, rate, SPEECH_RATE).astype(np.float32)


def complete_and_cut(voice: str, speed: int) -> tuple[np.ndarray, np.ndarray]:
    """The whole question, and the same recording stopped at the break after "what time the"
    (so the words before it keep their mid-sentence intonation), each with 200 ms of silence."""
    audio = speak(f"<speak>{QUESTION}</speak>", voice, speed)
    quiet = np.abs(audio) < 1e-4
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    start, end = max(zip(edges[::2], edges[1::2], strict=True), key=lambda r: r[1] - r[0])
    assert (end - start) / SPEECH_RATE > 0.6, "the break was not found"
    loud = np.flatnonzero(~quiet)
    return (
        np.concatenate([audio[: loud[-1] + 1], TAIL]),
        np.concatenate([audio[:start], TAIL]),
    )


@pytest.fixture(scope="module")
def model() -> SmartTurn:
    return SmartTurn()


def test_weights_come_from_the_pinned_wheel_and_verify() -> None:
    assert SMART_TURN.wheel == "pipecat-ai==1.14.0"
    path = ensure_weights(SMART_TURN)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SMART_TURN.sha256


def test_a_complete_question_scores_higher_than_the_same_question_cut(model: SmartTurn) -> None:
    complete, cut = [], []
    for voice, speed in VOICES:
        whole, part = complete_and_cut(voice, speed)
        complete.append(model.probability(whole))
        cut.append(model.probability(part))
    assert all(c > p for c, p in zip(complete, cut, strict=True)), (complete, cut)
    assert np.mean(complete) - np.mean(cut) > 0.4, (complete, cut)


def test_features_are_the_last_eight_seconds_padded_at_the_start() -> None:
    words = speak("<speak>What is the capital of Australia?</speak>", "en-gb+f3", 160)
    features = turn_features(words)
    assert features.shape == (80, 800) and features.dtype == np.float32
    assert np.isfinite(features).all()
    padded = np.concatenate([np.zeros(WINDOW_SAMPLES - words.size, np.float32), words])
    assert np.array_equal(features, turn_features(padded))
    long = np.concatenate([np.tile(words, 5), words])
    assert long.size > WINDOW_SAMPLES
    assert np.array_equal(turn_features(long), turn_features(long[-WINDOW_SAMPLES:]))


def test_features_agree_with_faster_whisper_log_mel() -> None:
    """An independent implementation of Whisper's features (faster-whisper's, in float32) on the
    normalized 8 s window gives the same spectrogram."""
    from faster_whisper.feature_extractor import FeatureExtractor

    words = speak("<speak>Please turn off the lights.</speak>", "en-us", 150)
    window = np.concatenate([np.zeros(WINDOW_SAMPLES - words.size, np.float32), words])
    window = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
    theirs = FeatureExtractor(chunk_length=8)(window, padding=0)
    assert np.abs(theirs - turn_features(words)).max() < 1e-3


def test_silence_and_very_short_input(model: SmartTurn) -> None:
    for audio in (
        np.zeros(0, np.float32),
        np.zeros(100, np.float32),
        np.zeros(SPEECH_RATE, np.float32),
        np.full(SPEECH_RATE, 1e-4, np.float32),
    ):
        p = model.probability(audio)
        assert 0.0 <= p <= 1.0
        assert np.isfinite(turn_features(audio)).all()


def test_threads_share_one_model(model: SmartTurn) -> None:
    whole, part = complete_and_cut("en-us", 150)
    expected = [model.probability(whole), model.probability(part)]
    got: dict[int, float] = {}

    def run(i: int, audio: np.ndarray) -> None:
        got[i] = model.probability(audio)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate((whole, part))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[0], got[1]] == pytest.approx(expected, abs=1e-5)
    described = model.describe()
    assert described["model"] == SMART_TURN.name and described["calls"] >= 4
    assert described["mean_ms"] > 0
