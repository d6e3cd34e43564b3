"""The server's shared voice models: VAD, speech recognition, speech synthesis.

Built once per server; sessions get their own :class:`VoiceInput` / :class:`VoiceOutput` on
top. Embedded models load in the background at start-up (like the LLM); the first voice
session waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from ...errors import EngineError
from ...types import Setup
from ..scheduler import Scheduler
from .asr import AsrBackend, RemoteAsr, WhisperAsr
from .tts import EspeakTts, PiperTts, RemoteTts, TtsBackend, espeak_languages
from .turn import SmartTurn
from .vad import VadModel
from .voices import VoiceChoice, choose_voice, validate_voice_name

__all__ = ["VoiceSettings", "VoiceStack"]

log = logging.getLogger("openlive.voice")


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    asr: str = "embedded"
    asr_url: str | None = None
    asr_model: str = "whisper-1"
    tts: str = "embedded"
    tts_url: str | None = None
    tts_model: str = "tts-1"
    tts_voice: str = "alloy"
    api_key: str | None = None
    timeout: float = 60.0
    lead_ms: int = 250
    chunk_ms: int = 100
    first_piece: str = "clause"
    end_of_turn: str = "semantic"
    """``semantic`` (the end-of-turn model decides, unless a client sets silenceDurationMs) or
    ``silence`` (a fixed silence always)."""


class VoiceStack:
    def __init__(self, scheduler: Scheduler, settings: VoiceSettings) -> None:
        self.scheduler = scheduler
        self.settings = settings
        self.vad: VadModel | None = None
        self.turn: SmartTurn | None = None
        self.asr: AsrBackend
        if settings.asr == "off":
            self.asr = WhisperAsr(threads=scheduler.threads)  # never loaded
        elif settings.asr == "remote":
            if not settings.asr_url:
                raise EngineError("asr = remote needs asr_url")
            self.asr = RemoteAsr(
                settings.asr_url, settings.asr_model, settings.api_key, settings.timeout
            )
        else:
            self.asr = WhisperAsr(threads=scheduler.threads)
        self.piper: TtsBackend
        if settings.tts == "remote":
            if not settings.tts_url:
                raise EngineError("tts = remote needs tts_url")
            self.piper = RemoteTts(
                settings.tts_url,
                settings.tts_model,
                settings.tts_voice,
                settings.api_key,
                settings.timeout,
            )
        else:
            self.piper = PiperTts(threads=scheduler.threads)
        self.languages: set[str] = set()
        self._espeak: dict[str, EspeakTts] = {}
        self._loading: asyncio.Task[None] | None = None
        self._listing: asyncio.Task[set[str]] | None = None
        self.error: str | None = None

    async def start(self) -> None:
        """Begin loading the models in the background (owned here; :meth:`close` ends it)."""
        if self._loading is None:
            self._loading = asyncio.create_task(self.scheduler.run(self._load, compute=False))

    async def close(self) -> None:
        for task in (self._loading, self._listing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task  # its failure, if any, was reported when it happened
        for backend in (self.asr, self.piper):
            backend.close()

    async def _languages(self) -> set[str]:
        """The espeak-ng languages (listed once, off the event loop)."""
        if self._listing is None:
            self._listing = asyncio.create_task(self.scheduler.run(espeak_languages, compute=False))
        self.languages = await asyncio.shield(self._listing)
        return self.languages

    def _load(self) -> None:
        try:
            self.vad = VadModel(threads=1)
            if self.settings.end_of_turn == "semantic":
                try:
                    self.turn = SmartTurn(threads=1)
                except Exception as exc:  # the fixed silence rule still works
                    log.warning("end-of-turn model not available (%s); silence rule only", exc)
            if isinstance(self.piper, PiperTts):
                self.piper.load()
            if isinstance(self.asr, WhisperAsr) and self.settings.asr == "embedded":
                self.asr.load()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("voice models failed to load: %s", self.error)
            raise

    async def ready(self) -> None:
        await self.start()
        assert self._loading is not None
        try:
            await asyncio.shield(self._loading)
        except Exception as exc:
            raise EngineError(f"voice models are not available: {self.error or exc}") from exc

    @property
    def loaded(self) -> bool:
        return self._loading is not None and self._loading.done() and self.error is None

    async def choose(self, setup: Setup) -> tuple[VoiceChoice, TtsBackend]:
        """The synthesizer for a session; 1007 for an unknown voice or language. It needs no
        model loaded, so a bad voice is refused the same way whatever state the server is in."""
        gc = setup.generation_config
        sc = gc.speech_config if gc else None
        name = None
        if sc and sc.voice_config and sc.voice_config.prebuilt_voice_config:
            name = sc.voice_config.prebuilt_voice_config.voice_name
        language = sc.language_code if sc else None
        if self.settings.tts == "remote":
            validate_voice_name(name)
            return VoiceChoice(
                "remote", language or "en", f"remote {name or 'default'}"
            ), self.piper
        choice = choose_voice(name, language, await self._languages())
        if choice.engine == "piper":
            return choice, self.piper
        tts = self._espeak.get(choice.language)
        if tts is None:
            tts = self._espeak[choice.language] = EspeakTts(choice.language)
        return choice, tts

    @property
    def semantic(self) -> bool:
        """Sessions may use the semantic end-of-turn rule (the model is configured, and not
        known to have failed to load)."""
        if self.settings.end_of_turn != "semantic":
            return False
        return not self.loaded or self.turn is not None

    async def turn_model(self) -> SmartTurn | None:
        """The end-of-turn model (None if it could not load)."""
        await self.ready()
        return self.turn

    async def vad_model(self) -> VadModel:
        await self.ready()
        assert self.vad is not None
        return self.vad

    def describe(self) -> dict[str, object]:
        return {
            "asr": "off" if self.settings.asr == "off" else self.asr.name,
            "tts": self.piper.name,
            "ready": self.loaded,
            "loading": self._loading is not None and not self._loading.done(),
            "error": self.error,
            "languages": len(self.languages),
            "end_of_turn": self.turn.describe() if self.turn is not None else "silence",
        }
