"""Audio in, audio out with google-genai: a spoken question (a WAV file, streamed like a
microphone), a spoken answer written to a WAV file, and both transcripts.

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem   # the path `openlive serve` prints
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/02_audio.py [question.wav] [answer.wav]

The input is 16-bit mono PCM (16 kHz here: examples/assets/question.wav); the reply is 24 kHz.
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
    step = rate // 10 * 2  # 100 ms of 16-bit samples
    for i in range(0, len(pcm), step):
        await session.send_realtime_input(
            audio=types.Blob(data=pcm[i : i + step], mime_type=f"audio/pcm;rate={rate}")
        )
        await asyncio.sleep(0.1)
    # the microphone is off: the server ends the user's turn without waiting for silence
    await session.send_realtime_input(audio_stream_end=True)


async def main() -> None:
    question = Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS / "question.wav"
    answer = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("answer.wav")
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL})
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Puck")
            )
        ),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )
    audio = bytearray()
    heard = said = ""
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        print(f"Speaking {question.name} ...")
        speaker = asyncio.create_task(stream_wav(session, question))
        async for message in session.receive():  # ends with the model's turn
            content = message.server_content
            if content and content.input_transcription and content.input_transcription.text:
                heard += content.input_transcription.text
            if content and content.output_transcription and content.output_transcription.text:
                said += content.output_transcription.text
            if message.data:  # the reply's audio: 24 kHz 16-bit mono PCM
                audio += message.data
        await speaker
    print(f"You said: {heard.strip()}")
    print(f"Model said: {said.strip()}")
    with wave.open(str(answer), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(audio)
    print(f"Received {len(audio)} bytes of audio ({len(audio) / 48000:.1f} s), wrote {answer}")
    if not audio:
        raise RuntimeError("no audio in the reply")


if __name__ == "__main__":
    asyncio.run(main())
