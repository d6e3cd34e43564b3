"""Remote speech backends against an OpenAI-compatible speech server made of real models
(Whisper for /v1/audio/transcriptions, Piper for /v1/audio/speech) on loopback."""

from __future__ import annotations

import asyncio
import email.parser
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from openlive import Client
from openlive.audio import SPEECH_RATE, read_wav, resample, write_wav
from openlive.client import AudioCollector, send_audio
from openlive.engine.asr import RemoteAsr, WhisperAsr
from openlive.engine.tts import PiperTts, RemoteTts
from openlive.errors import EngineError
from openlive.server import ServerConfig

from ..conftest import running_app

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def speech_server() -> Iterator[str]:
    asr = WhisperAsr(threads=2)
    tts = PiperTts(threads=2)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/audio/transcriptions":
                head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                message = email.parser.BytesParser().parsebytes(head + body)
                fields = {
                    p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
                    for p in message.get_payload()
                }
                samples, rate = read_wav(io.BytesIO(fields["file"]))
                with lock:
                    text = asr.transcribe(
                        resample(samples, rate, SPEECH_RATE),
                        (fields.get("language") or b"en").decode(),
                    )
                self._send(json.dumps({"text": text}).encode(), "application/json")
            elif self.path == "/v1/audio/speech":
                request = json.loads(body)
                with lock:
                    audio = tts.synthesize(request["input"])
                out = io.BytesIO()
                write_wav(out, audio, 24000)
                self._send(out.getvalue(), "audio/wav")
            else:
                self.send_error(404)

        def _send(self, payload: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture(scope="module")
def question() -> np.ndarray:
    return resample(
        PiperTts(threads=2).synthesize("What is the capital of Italy?"), 24000, SPEECH_RATE
    )


def test_remote_backends_round_trip(speech_server: str, question: np.ndarray) -> None:
    text = RemoteAsr(speech_server).transcribe(question, "en")
    assert "capital of italy" in text.lower()
    audio = RemoteTts(speech_server).synthesize("The capital of Italy is Rome.")
    assert audio.size > 24000 * 0.5
    heard = RemoteAsr(speech_server).transcribe(resample(audio, 24000, SPEECH_RATE), "en")
    assert "rome" in heard.lower()


def test_remote_down_is_a_clear_error() -> None:
    with pytest.raises(EngineError, match="remote speech recognition"):
        RemoteAsr("http://127.0.0.1:9/v1").transcribe(np.zeros(16000, np.float32))
    with pytest.raises(EngineError, match="remote speech synthesis"):
        RemoteTts("http://127.0.0.1:9/v1").synthesize("hello")


async def test_server_with_remote_speech(speech_server: str, question: np.ndarray) -> None:
    config = ServerConfig(
        port=0,
        no_tls=True,
        model="echo",
        asr="remote",
        asr_url=speech_server,
        tts="remote",
        tts_url=speech_server,
    )
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        out = AudioCollector()
        voice = {
            "response_modalities": ["AUDIO"],
            "input_audio_transcription": {},
            "output_audio_transcription": {},
        }
        async with client.aio.live.connect(model="echo", config=voice) as session:
            sender = asyncio.create_task(send_audio(session, question, trailing_silence_ms=1500))
            await out.collect_turn(session)
            await sender
    assert "capital of italy" in " ".join(out.input_transcript).lower()
    assert "echo" in " ".join(out.output_transcript).lower()
    assert out.seconds > 0.5


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
