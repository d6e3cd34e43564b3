"""Audio in, audio out with openlive's SDK: a spoken question (a WAV file, streamed like a
microphone), a spoken answer written to a WAV file, and both transcripts.

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/02_audio.py [question.wav] [answer.wav]

The audio helpers need the `audio` extra (pip install 'openlive[audio]'). The chunks go out in
the guide's shape, `realtimeInput.mediaChunks` with `audio/pcm` (16 kHz PCM16 mono).
"""

import asyncio
import os
import sys
from pathlib import Path

from openlive import Client
from openlive.client import AsyncSession, AudioCollector, pcm_chunks

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "gemini-live-2.5-flash-preview"
ASSETS = Path(__file__).resolve().parent.parent / "assets"


async def speak(session: AsyncSession, wav: Path) -> None:
    for chunk in pcm_chunks(wav):  # 100 ms chunks at 16 kHz, whatever the file's rate
        await session.send_realtime_input(
            realtime_input={"mediaChunks": [{"mimeType": "audio/pcm", "data": chunk}]}
        )
        await asyncio.sleep(0.1)  # real-time pace, as a microphone
    await session.send_realtime_input(audio_stream_end=True)  # the microphone is off


async def main() -> None:
    question = Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS / "question.wav"
    answer = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("answer.wav")
    config = {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}},
        "inputAudioTranscription": {},
        "outputAudioTranscription": {},
    }
    reply = AudioCollector()  # gathers audio chunks and transcripts
    async with Client(base_url=URL).aio.live.connect(model=MODEL, config=config) as session:
        print(f"Speaking {question.name} ...")
        speaker = asyncio.create_task(speak(session, question))
        async for message in session.receive():  # ends with the model's turn
            reply.add(message)
        await speaker
    print(f"You said: {''.join(reply.input_transcript).strip()}")
    print(f"Model said: {''.join(reply.output_transcript).strip()}")
    reply.save(answer)  # 24 kHz mono WAV
    print(f"Received {len(reply.pcm)} bytes of audio ({reply.seconds:.1f} s), wrote {answer}")
    if not reply.pcm:
        raise RuntimeError("no audio in the reply")


if __name__ == "__main__":
    asyncio.run(main())
