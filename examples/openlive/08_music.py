"""Live music generation with openlive's SDK: weighted prompts and a generation config steer a
stream of 48 kHz stereo PCM, written to a WAV file.

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/08_music.py [music.wav] [seconds]

`openlive music "upbeat electronic music" --bpm 120 --output music.wav` does the same from the
terminal.
"""

import asyncio
import os
import sys
import wave
from pathlib import Path

from openlive import Client

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "models/lyria-realtime-exp"


async def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("music.wav")
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    audio = bytearray()
    chunks = 0
    async with Client(base_url=URL).aio.live.music.connect(model=MODEL) as session:
        await session.set_weighted_prompts(
            prompts=[{"text": "upbeat electronic music", "weight": 1.0}]
        )
        await session.set_music_generation_config(
            config={"bpm": 120, "scale": "C_MAJOR_A_MINOR", "musicGenerationMode": "QUALITY"}
        )
        await session.play()
        async for message in session.receive():
            if message.audio:  # this message's chunks: 48 kHz stereo PCM16
                chunks += 1
                audio += message.audio
                print(f"Music chunk {chunks}: {len(message.audio)} bytes")
            if len(audio) >= seconds * 48000 * 4:
                break
        await session.stop()
    with wave.open(str(output), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(48000)
        wav.writeframes(audio)
    print(f"Received {chunks} chunks, {len(audio)} bytes of music; wrote {output}")
    if not audio:
        raise RuntimeError("no music")


if __name__ == "__main__":
    asyncio.run(main())
