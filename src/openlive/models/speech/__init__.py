"""Speech models shared by every session: voice activity detection, recognition, synthesis,
the voice-name map, and the stack that loads them."""

from .asr import AsrBackend, RemoteAsr, WhisperAsr
from .stack import VoiceSettings, VoiceStack
from .tts import EspeakTts, PiperTts, RemoteTts, TtsBackend
from .voices import VoiceChoice, choose_voice

__all__ = [
    "AsrBackend",
    "EspeakTts",
    "PiperTts",
    "RemoteAsr",
    "RemoteTts",
    "TtsBackend",
    "VoiceChoice",
    "VoiceSettings",
    "VoiceStack",
    "WhisperAsr",
    "choose_voice",
]
