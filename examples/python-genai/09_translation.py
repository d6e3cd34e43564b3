"""Real-time translation with google-genai: English speech in, Spanish speech out (and its
text, as the output transcription), steered by a system instruction.

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem   # the path `openlive serve` prints
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/09_translation.py [english.wav] [spanish.wav]

speech_config.language_code picks the voice's language (openlive speaks Spanish with espeak-ng).
"""

import asyncio
import os
import sys
import wave
from pathlib import Path

from google import genai
from google.genai import types
from google.genai.live import AsyncSession

URL = os.environ.get("OPENLIVE_URL", "https://127.0.0.1:8443")
API_KEY = os.environ.get("OPENLIVE_API_KEY", "any-key")
MODEL = "gemini-live-2.5-flash-preview"
ASSETS = Path(__file__).resolve().parent.parent / "assets"


async def stream_wav(session: AsyncSession, path: Path) -> None:
    """Send the WAV in 100 ms chunks at real-time pace, as a microphone would."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        pcm = wav.readframes(wav.getnframes())
    step = rate // 10 * 2
    for i in range(0, len(pcm), step):
        await session.send_realtime_input(
            audio=types.Blob(data=pcm[i : i + step], mime_type=f"audio/pcm;rate={rate}")
        )
        await asyncio.sleep(0.1)
    await session.send_realtime_input(audio_stream_end=True)


async def main() -> None:
    english = Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS / "coffee.wav"
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("spanish.wav")
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL})
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=types.SpeechConfig(language_code="es-ES"),
        system_instruction=(
            "You are an interpreter. Translate everything the user says from English to "
            "Spanish. Reply with the Spanish translation only."
        ),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )
    audio = bytearray()
    heard = translated = ""
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        speaker = asyncio.create_task(stream_wav(session, english))
        async for message in session.receive():
            content = message.server_content
            if content and content.input_transcription and content.input_transcription.text:
                heard += content.input_transcription.text
            if content and content.output_transcription and content.output_transcription.text:
                translated += content.output_transcription.text
            if message.data:
                audio += message.data
        await speaker
    print(f"English: {heard.strip()}")
    print(f"Translated: {translated.strip()}")
    with wave.open(str(output), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(audio)
    print(f"Received {len(audio)} bytes of Spanish audio, wrote {output}")
    if not translated or not audio:
        raise RuntimeError("no translation")


if __name__ == "__main__":
    asyncio.run(main())
