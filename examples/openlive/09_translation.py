"""Real-time translation with openlive's SDK: English speech in, Spanish speech out (and its
text, as the output transcription), steered by a system instruction.

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/09_translation.py [english.wav] [spanish.wav]

`speechConfig.languageCode` picks the voice's language (openlive speaks Spanish with espeak-ng).
The audio helpers need the `audio` extra (pip install 'openlive[audio]').
"""

import asyncio
import os
import sys
from pathlib import Path

from openlive import Client
from openlive.client import AudioCollector, send_audio

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "gemini-live-2.5-flash-preview"
ASSETS = Path(__file__).resolve().parent.parent / "assets"


async def main() -> None:
    english = Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS / "coffee.wav"
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("spanish.wav")
    config = {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"languageCode": "es-ES"},
        "systemInstruction": "You are an interpreter. Translate everything the user says from "
        "English to Spanish. Reply with the Spanish translation only.",
        "inputAudioTranscription": {},
        "outputAudioTranscription": {},
    }
    reply = AudioCollector()
    async with Client(base_url=URL).aio.live.connect(model=MODEL, config=config) as session:

        async def speak() -> None:  # a microphone: real-time pace, then the mic is off
            await send_audio(session, english)
            await session.send_realtime_input(audio_stream_end=True)

        speaker = asyncio.create_task(speak())
        await reply.collect_turn(session)
        await speaker
    print(f"English: {''.join(reply.input_transcript).strip()}")
    print(f"Translated: {''.join(reply.output_transcript).strip()}")
    reply.save(output)
    print(f"Received {len(reply.pcm)} bytes of Spanish audio, wrote {output}")
    if not reply.output_transcript or not reply.pcm:
        raise RuntimeError("no translation")


if __name__ == "__main__":
    asyncio.run(main())
