"""Interruption with google-genai: while the model is still writing a long story, the user says
something new. The server stops the story, sends `interrupted` (then `turnComplete`), and
answers the new input.

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem   # the path `openlive serve` prints
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/05_interruption.py

In a voice app the new input is the user's speech (barge-in); here it is realtime text.
"""

import asyncio
import os

from google import genai
from google.genai import types

URL = os.environ.get("OPENLIVE_URL", "https://127.0.0.1:8443")
API_KEY = os.environ.get("OPENLIVE_API_KEY", "any-key")
MODEL = "gemini-live-2.5-flash-preview"


async def main() -> None:
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL})
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT],
        system_instruction="You are a storyteller for children.",
    )
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        print("You: Tell me a long story about a dragon.")
        await session.send_client_content(
            turns=types.Content(
                role="user", parts=[types.Part(text="Tell me a long story about a dragon.")]
            )
        )
        print("Model: ", end="", flush=True)
        chunks = 0
        interrupted = False
        async for message in session.receive():  # the story's turn
            content = message.server_content
            if content and content.interrupted:
                interrupted = True
                print(" [interrupted]")
            if message.text:
                print(message.text, end="", flush=True)
                chunks += 1
                if chunks == 8:  # the story is under way: interrupt it
                    await session.send_realtime_input(text="Actually, just tell me a joke instead.")
        if not interrupted:
            raise RuntimeError("the story was not interrupted")
        print("You: Actually, just tell me a joke instead.")
        joke = "".join([message.text or "" async for message in session.receive()])
        print(f"Model: {joke}")
        if not joke:
            raise RuntimeError("no reply to the new input")


if __name__ == "__main__":
    asyncio.run(main())
