"""Screen sharing with google-genai: frames of a shared screen go out as realtime video (one a
second), and the model answers questions about what is on it.

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem   # the path `openlive serve` prints
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/04_screen_sharing.py [screenshot.png]

A real app would capture the screen (e.g. PIL.ImageGrab.grab() every second); this example
"shares" one screenshot, examples/assets/error_dialog.png. A question reads the latest frame
sent before it, so the first frame goes out before the question.
"""

import asyncio
import os
import sys
from pathlib import Path

from google import genai
from google.genai import types
from google.genai.live import AsyncSession

URL = os.environ.get("OPENLIVE_URL", "https://127.0.0.1:8443")
API_KEY = os.environ.get("OPENLIVE_API_KEY", "any-key")
MODEL = "gemini-live-2.5-flash-preview"
ASSETS = Path(__file__).resolve().parent.parent / "assets"


async def share_screen(session: AsyncSession, screenshot: Path) -> None:
    frame = types.Blob(data=screenshot.read_bytes(), mime_type="image/png")
    while True:  # until cancelled
        await session.send_realtime_input(video=frame)
        await asyncio.sleep(1.0)


async def main() -> None:
    screenshot = Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS / "error_dialog.png"
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL})
    config = types.LiveConnectConfig(response_modalities=[types.Modality.TEXT])
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        sharing = asyncio.create_task(share_screen(session, screenshot))
        await asyncio.sleep(0.5)  # the first frame is out
        question = "Read me the error message on my screen."
        print(f"You: {question}")
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text=question)])
        )
        analysis = "".join([message.text or "" async for message in session.receive()])
        sharing.cancel()
    print(f"Analysis: {analysis}")
    if not analysis:
        raise RuntimeError("no answer")


if __name__ == "__main__":
    asyncio.run(main())
