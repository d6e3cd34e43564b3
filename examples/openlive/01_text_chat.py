"""Text-based live chat with openlive's SDK: two questions in one Live session, replies streamed.

openlive's SDK speaks plain ws:// (and wss://) and takes the guide's message shapes as they are:
here `session.send({"clientContent": ...})`.

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/01_text_chat.py
"""

import asyncio
import os

from openlive import Client
from openlive.client import AsyncSession

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "gemini-live-2.5-flash-preview"


async def ask(session: AsyncSession, question: str) -> str:
    print(f"You: {question}")
    await session.send(
        {
            "clientContent": {
                "turns": [{"role": "user", "parts": [{"text": question}]}],
                "turnComplete": True,
            }
        }
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
    client = Client(base_url=URL)  # the API key, if the server wants one: $OPENLIVE_API_KEY
    config = {
        "responseModalities": ["TEXT"],
        "systemInstruction": "Answer in at most two short sentences.",
    }
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        print("Connected")
        await ask(session, "What is quantum computing?")
        await ask(session, "Can you explain it more simply?")  # the session remembers the first


if __name__ == "__main__":
    asyncio.run(main())
