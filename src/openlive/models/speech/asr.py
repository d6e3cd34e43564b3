"""Speech recognition backends.

* :class:`WhisperAsr` (embedded): Whisper base (multilingual) from PyPI on CTranslate2 via
  faster-whisper. An utterance is encoded with its own length plus 3 s of silence instead of
  Whisper's fixed 30 s window: the encoder then costs ~0.15 s instead of ~1 s on 2 cores, with
  the same words on short utterances (measured in benchmarks/RESULTS.md). What it reads
  again into the padding is dropped (:mod:`.repeats`).
* :class:`RemoteAsr`: any OpenAI-compatible ``/v1/audio/transcriptions`` endpoint.
"""

from __future__ import annotations

import abc
import io
import json
import threading
from typing import Any

import numpy as np

from ...audio.pcm import SPEECH_RATE, Floats, write_wav
from ...errors import EngineError
from .repeats import drop_repeats

__all__ = ["AsrBackend", "RemoteAsr", "WhisperAsr"]


class AsrBackend(abc.ABC):
    name = "asr"

    @abc.abstractmethod
    def transcribe(self, samples: Floats, language: str | None = None) -> str:
        """Text of 16 kHz mono speech. Blocking: call it on the scheduler."""

    def describe(self) -> dict[str, object]:
        return {"asr": self.name}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or other resources."""


_SOT, _TRANSCRIBE, _NO_TIMESTAMPS, _EOT = 50258, 50359, 50363, 50257
_PAD_SECONDS = 3.0


class WhisperAsr(AsrBackend):
    name = "whisper-base"

    def __init__(self, threads: int = 2, model_dir: str | None = None) -> None:
        self.threads = threads
        self.model_dir = model_dir
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from faster_whisper import WhisperModel

            path = self.model_dir
            if path is None:
                from ...weights import WHISPER_BASE, ensure_weights

                path = str(ensure_weights(WHISPER_BASE).parent)
            self._model = WhisperModel(
                path, device="cpu", compute_type="int8", cpu_threads=self.threads
            )

    def _language_token(self, language: str | None) -> int:
        tokenizer = self._model.hf_tokenizer
        code = (language or "en").split("-")[0].lower()
        token = tokenizer.token_to_id(f"<|{code}|>")
        if token is None:
            raise EngineError(f"speech recognition has no language {language!r}")
        return int(token)

    def transcribe(self, samples: Floats, language: str | None = None) -> str:
        import ctranslate2

        self.load()
        model = self._model
        if samples.size < SPEECH_RATE // 10:
            return ""
        padded = np.concatenate([samples, np.zeros(int(SPEECH_RATE * _PAD_SECONDS), np.float32)])
        features = model.feature_extractor(padded)
        frames = min(features.shape[1] + features.shape[1] % 2, 3000)
        features = np.pad(features, ((0, 0), (0, max(0, frames - features.shape[1]))))
        view = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(features[None, :, :frames], dtype=np.float32)
        )
        if language:
            lang = self._language_token(language)
        else:
            encoded = model.model.encode(view, to_cpu=False)
            lang_probs = model.model.detect_language(encoded)[0]
            lang = model.hf_tokenizer.token_to_id(lang_probs[0][0])
            view = encoded
        prompt = [_SOT, lang, _TRANSCRIBE, _NO_TIMESTAMPS]
        seconds = samples.size / SPEECH_RATE
        with self._lock:
            result = model.model.generate(
                view,
                [prompt],
                beam_size=1,
                max_length=int(16 + seconds * 8),
                suppress_blank=True,
            )
        tokens = [t for t in result[0].sequences_ids[0] if t < _EOT]
        return drop_repeats(str(model.hf_tokenizer.decode(tokens)).strip())


class RemoteAsr(AsrBackend):
    """POSTs a WAV to ``{base_url}/audio/transcriptions`` (OpenAI-compatible)."""

    name = "remote"

    def __init__(
        self,
        base_url: str,
        model: str = "whisper-1",
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        from ..openai_http import Poster, base_v1

        self.base_url = base_v1(base_url)
        self.model = model
        self._poster = Poster(self.base_url, api_key, timeout)

    def transcribe(self, samples: Floats, language: str | None = None) -> str:
        from ..openai_http import HTTP_FAILURES

        buffer = io.BytesIO()
        write_wav(buffer, samples, SPEECH_RATE)
        data = {"model": self.model}
        if language:
            data["language"] = language.split("-")[0]
        try:
            status, body = self._poster.post_form(
                "/audio/transcriptions",
                data,
                {"file": ("speech.wav", buffer.getvalue(), "audio/wav")},
            )
        except HTTP_FAILURES as exc:
            raise EngineError(
                f"remote speech recognition at {self.base_url} failed: {exc!r}"
            ) from exc
        if status != 200:
            raise EngineError(f"remote speech recognition answered HTTP {status}")
        try:
            return str(json.loads(body)["text"]).strip()
        except (ValueError, KeyError, TypeError) as exc:
            raise EngineError(
                f"remote speech recognition answered something that is not a transcription: "
                f"{body[:80]!r}"
            ) from exc

    def close(self) -> None:
        self._poster.close()
