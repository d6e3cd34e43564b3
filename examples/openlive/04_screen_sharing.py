"""Screen sharing with openlive's SDK: frames of a shared screen go out as realtime video (one a
second), and the model answers questions about what is on it.

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/04_screen_sharing.py [screenshot.png]

`session.stream_frames(source, fps)` sends frames from a folder, a video file, the screen
("screen", where the machine has one) or a list of images; this example "shares" one
screenshot, examples/assets/error_dialog.png, again and again. A question reads the latest
frame sent before it.
"""

import asyncio
import os
import sys
from pathlib import Path

from openlive import Client

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "gemini-live-2.5-flash-preview"
ASSETS = Path(__file__).resolve().parent.parent / "assets"


async def main() -> None:
    screenshot = Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS / "error_dialog.png"
    config = {"responseModalities": ["TEXT"]}
    async with Client(base_url=URL).aio.live.connect(model=MODEL, config=config) as session:
        sharing = asyncio.create_task(session.stream_frames([screenshot], fps=1.0, loop=True))
        await asyncio.sleep(0.5)  # the first frame is out
        question = "Read me the error message on my screen."
        print(f"You: {question}")
        await session.send_client_content(turns=question)
        analysis = "".join([message.text or "" async for message in session.receive()])
        sharing.cancel()
    print(f"Analysis: {analysis}")
    if not analysis:
        raise RuntimeError("no answer")


if __name__ == "__main__":
    asyncio.run(main())
