"""Error recovery with google-genai: session resumption. The client asks for resumption handles,
keeps the latest, and when the connection is lost it reconnects (with retries and backoff),
presenting the handle: the conversation carries on where it was.

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem   # the path `openlive serve` prints
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/07_error_recovery.py

The connection is dropped on purpose after the first question; the second question ("What is my
name?") is answered on a new connection from the resumed conversation.
"""

import asyncio
import os

from google import genai
from google.genai import errors, types
from google.genai.live import AsyncSession
from websockets.exceptions import ConnectionClosed

URL = os.environ.get("OPENLIVE_URL", "https://127.0.0.1:8443")
API_KEY = os.environ.get("OPENLIVE_API_KEY", "any-key")
MODEL = "gemini-live-2.5-flash-preview"
MAX_RECONNECT_ATTEMPTS = 3


class SimulatedDrop(ConnectionError):
    pass


async def ask(session: AsyncSession, question: str) -> tuple[str, str | None]:
    """Send a question; return the reply and the resumption handle of the state after it."""
    print(f"You: {question}")
    await session.send_client_content(
        turns=types.Content(role="user", parts=[types.Part(text=question)])
    )
    reply = "".join([message.text or "" async for message in session.receive()])
    print(f"Model: {reply}")
    async for message in session.receive():  # the handle comes just after turnComplete
        update = message.session_resumption_update
        if update and update.resumable and update.new_handle:
            return reply, update.new_handle
    return reply, None


async def main() -> None:
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL})
    questions = ["My name is Ada. Please remember it.", "What is my name?"]
    handle: str | None = None
    attempts = 0
    answer = ""
    while questions:
        config = types.LiveConnectConfig(
            response_modalities=[types.Modality.TEXT],
            session_resumption=types.SessionResumptionConfig(handle=handle),
        )
        try:
            async with client.aio.live.connect(model=MODEL, config=config) as session:
                print(f"Connected{' (resumed)' if handle else ''}: session {session.session_id}")
                attempts = 0
                while questions:
                    answer, handle = await ask(session, questions[0])
                    questions.pop(0)
                    if len(questions) == 1:
                        raise SimulatedDrop("the network dropped (simulated)")
        except (ConnectionError, ConnectionClosed, errors.APIError) as error:
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
