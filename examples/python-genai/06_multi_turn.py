"""A multi-turn conversation with google-genai: a system instruction, three questions, each
building on the last. The session keeps the conversation on the server; the client keeps its
own copy too (to show it, or to start a new session with it as history).

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem   # the path `openlive serve` prints
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/06_multi_turn.py
"""

import asyncio
import os

from google import genai
from google.genai import types

URL = os.environ.get("OPENLIVE_URL", "https://127.0.0.1:8443")
API_KEY = os.environ.get("OPENLIVE_API_KEY", "any-key")
MODEL = "gemini-live-2.5-flash-preview"

QUESTIONS = [
    "How do I read a file in Python?",
    "Can you show me an example with error handling?",
    "What about reading CSV files?",
]


async def main() -> None:
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL})
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT],
        system_instruction="You are a helpful coding assistant. "
        "Be brief: one sentence, at most three lines of code.",
    )
    history: list[types.Content] = []
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        for question in QUESTIONS:
            user_turn = types.Content(role="user", parts=[types.Part(text=question)])
            history.append(user_turn)
            print(f"You: {question}")
            await session.send_client_content(turns=user_turn, turn_complete=True)
            answer = "".join([message.text or "" async for message in session.receive()])
            if not answer:
                raise RuntimeError("no answer")
            history.append(types.Content(role="model", parts=[types.Part(text=answer)]))
            print(f"Assistant: {answer}\n")
    print(f"The conversation has {len(history)} turns.")


if __name__ == "__main__":
    asyncio.run(main())
