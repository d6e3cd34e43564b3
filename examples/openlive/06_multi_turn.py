"""A multi-turn conversation with openlive's SDK: a system instruction, three questions, each
building on the last. The session keeps the conversation on the server; the client keeps its
own copy too (to show it, or to start a new session with it as history).

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/06_multi_turn.py
"""

import asyncio
import os
from typing import Any

from openlive import Client
from openlive.client import AsyncSession

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "gemini-live-2.5-flash-preview"


async def send_message(session: AsyncSession, history: list[dict[str, Any]], text: str) -> None:
    user_turn = {"role": "user", "parts": [{"text": text}]}
    history.append(user_turn)
    print(f"You: {text}")
    await session.send({"clientContent": {"turns": [user_turn], "turnComplete": True}})
    answer = "".join([message.text or "" async for message in session.receive()])
    if not answer:
        raise RuntimeError("no answer")
    history.append({"role": "model", "parts": [{"text": answer}]})
    print(f"Assistant: {answer}\n")


async def main() -> None:
    config = {
        "responseModalities": ["TEXT"],
        "systemInstruction": "You are a helpful coding assistant. "
        "Be brief: one sentence, at most three lines of code.",
    }
    history: list[dict[str, Any]] = []
    async with Client(base_url=URL).aio.live.connect(model=MODEL, config=config) as session:
        await send_message(session, history, "How do I read a file in Python?")
        await send_message(session, history, "Can you show me an example with error handling?")
        await send_message(session, history, "What about reading CSV files?")
    print(f"The conversation has {len(history)} turns.")


if __name__ == "__main__":
    asyncio.run(main())
