"""Text-based live chat with google-genai: two questions in one Live session, replies streamed.

google-genai always connects over wss://, so point it at openlive's TLS port and trust the
server's self-signed certificate (`openlive serve` prints its path):

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/01_text_chat.py
"""

import asyncio
import os

from google import genai
from google.genai import types
from google.genai.live import AsyncSession

URL = os.environ.get("OPENLIVE_URL", "https://127.0.0.1:8443")
API_KEY = os.environ.get("OPENLIVE_API_KEY", "any-key")  # any string unless the server has keys
MODEL = "gemini-live-2.5-flash-preview"


async def ask(session: AsyncSession, question: str) -> str:
    print(f"You: {question}")
    await session.send_client_content(
        turns=types.Content(role="user", parts=[types.Part(text=question)]), turn_complete=True
    )
    reply = ""
    print("Model: ", end="", flush=True)
    async for message in session.receive():  # ends with the turn
        if message.text:
            print(message.text, end="", flush=True)
            reply += message.text
    print()
    if not reply:
        raise RuntimeError("no reply")
    return reply


async def main() -> None:
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL})
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT],
        system_instruction="Answer in at most two short sentences.",
    )
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        print("Connected")
        await ask(session, "What is quantum computing?")
        await ask(session, "Can you explain it more simply?")  # the session remembers the first


if __name__ == "__main__":
    asyncio.run(main())
