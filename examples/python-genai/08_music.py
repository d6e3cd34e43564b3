"""Live music generation with google-genai: weighted prompts and a generation config steer a
stream of 48 kHz stereo PCM, written to a WAV file.

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem   # the path `openlive serve` prints
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/08_music.py [music.wav] [seconds]

Live music is on the v1alpha API version.
"""

import asyncio
import os
import sys
import wave
from pathlib import Path

from google import genai
from google.genai import types

URL = os.environ.get("OPENLIVE_URL", "https://127.0.0.1:8443")
API_KEY = os.environ.get("OPENLIVE_API_KEY", "any-key")
MODEL = "models/lyria-realtime-exp"


async def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("music.wav")
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL, "api_version": "v1alpha"})
    audio = bytearray()
    async with client.aio.live.music.connect(model=MODEL) as session:
        await session.set_weighted_prompts(
            prompts=[types.WeightedPrompt(text="upbeat electronic music", weight=1.0)]
        )
        await session.set_music_generation_config(
            config=types.LiveMusicGenerationConfig(
                bpm=120,
                scale=types.Scale.C_MAJOR_A_MINOR,
                music_generation_mode=types.MusicGenerationMode.QUALITY,
            )
        )
        await session.play()
        chunks = 0
        async for message in session.receive():
            for chunk in (message.server_content and message.server_content.audio_chunks) or []:
                chunks += 1
                audio += chunk.data or b""
                print(f"Music chunk {chunks}: {len(chunk.data or b'')} bytes ({chunk.mime_type})")
            if len(audio) >= seconds * 48000 * 4:  # 48 kHz, 2 channels, 16-bit
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
