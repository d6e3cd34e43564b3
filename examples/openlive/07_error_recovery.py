"""Error recovery with openlive's SDK: session resumption. The client asks for resumption handles
(the SDK keeps the latest in `session.resumption_handle`), and when the connection is lost it
reconnects (with retries and backoff), presenting the handle: the conversation carries on.

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/07_error_recovery.py

The connection is dropped on purpose after the first question; the second question ("What is my
name?") is answered on a new connection from the resumed conversation. openlive's SDK can also
do all of this by itself: `connect(..., reconnect=True)` resumes after a goAway or a dropped
connection and sends again what the server had not kept (docs/sdk.md, "Reconnecting").
"""

import asyncio
import os

from openlive import Client, LiveConnectionClosed
from openlive.client import AsyncSession

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "gemini-live-2.5-flash-preview"
MAX_RECONNECT_ATTEMPTS = 3


class SimulatedDrop(ConnectionError):
    pass


async def ask(session: AsyncSession, question: str) -> str:
    print(f"You: {question}")
    await session.send_client_content(turns=question)
    reply = "".join([message.text or "" async for message in session.receive()])
    print(f"Model: {reply}")
    async for message in session.stream():  # the handle comes just after turnComplete
        update = message.session_resumption_update
        if update and update.resumable and update.new_handle:
            break
    return reply


async def main() -> None:
    client = Client(base_url=URL)
    questions = ["My name is Ada. Please remember it.", "What is my name?"]
    handle: str | None = None
    attempts = 0
    answer = ""
    while questions:
        config = {"responseModalities": ["TEXT"], "sessionResumption": {"handle": handle}}
        try:
            async with client.aio.live.connect(model=MODEL, config=config) as session:
                print(f"Connected{' (resumed)' if handle else ''}: session {session.session_id}")
                attempts = 0
                while questions:
                    answer = await ask(session, questions[0])
                    handle = session.resumption_handle
                    questions.pop(0)
                    if len(questions) == 1:
                        raise SimulatedDrop("the network dropped (simulated)")
        except (ConnectionError, LiveConnectionClosed) as error:
            attempts += 1
            if handle is None or attempts > MAX_RECONNECT_ATTEMPTS:
                raise
            delay = 0.5 * 2 ** (attempts - 1)
            print(f"Connection lost: {error}. Reconnecting in {delay} s (attempt {attempts})")
            await asyncio.sleep(delay)
    if "ada" not in answer.lower():
        raise RuntimeError("the resumed session forgot the conversation")


if __name__ == "__main__":
    asyncio.run(main())
