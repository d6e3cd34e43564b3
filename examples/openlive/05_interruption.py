"""Interruption with openlive's SDK: while the model is still writing a long story, the user
sends a new turn (the guide's `session.send({"clientContent": ...})`). The server stops the
story, sends `interrupted` (then `turnComplete`), and answers the new turn.

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/05_interruption.py

In a voice app the new input is the user's speech (barge-in) and works the same way.
"""

import asyncio
import os

from openlive import Client

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "gemini-live-2.5-flash-preview"


def user_turn(text: str) -> dict[str, object]:
    return {
        "clientContent": {
            "turns": [{"role": "user", "parts": [{"text": text}]}],
            "turnComplete": True,
        }
    }


async def main() -> None:
    config = {
        "responseModalities": ["TEXT"],
        "systemInstruction": "You are a storyteller for children.",
    }
    async with Client(base_url=URL).aio.live.connect(model=MODEL, config=config) as session:
        print("You: Tell me a long story about a dragon.")
        await session.send(user_turn("Tell me a long story about a dragon."))
        print("Model: ", end="", flush=True)
        chunks = 0
        interrupted = False
        async for message in session.receive():  # the story's turn
            if message.server_content and message.server_content.interrupted:
                interrupted = True
                print(" [interrupted]")
            if message.text:
                print(message.text, end="", flush=True)
                chunks += 1
                if chunks == 8:  # the story is under way: interrupt it
                    await session.send(user_turn("Actually, just tell me a joke instead."))
        if not interrupted:
            raise RuntimeError("the story was not interrupted")
        print("You: Actually, just tell me a joke instead.")
        joke = "".join([message.text or "" async for message in session.receive()])
        print(f"Model: {joke}")
        if not joke:
            raise RuntimeError("no reply to the new turn")


if __name__ == "__main__":
    asyncio.run(main())
