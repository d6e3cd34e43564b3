"""Live function calling with google-genai: the model calls a declared function, the client runs
it and sends the result back with send_tool_response, and the same turn goes on with the answer.

    export SSL_CERT_FILE=~/.cache/openlive/tls/cert.pem   # the path `openlive serve` prints
    export OPENLIVE_URL=https://127.0.0.1:8443
    python examples/python-genai/03_function_calling.py
"""

import asyncio
import os
from typing import Any

from google import genai
from google.genai import types

URL = os.environ.get("OPENLIVE_URL", "https://127.0.0.1:8443")
API_KEY = os.environ.get("OPENLIVE_API_KEY", "any-key")
MODEL = "gemini-live-2.5-flash-preview"

GET_WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather in a location.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"location": types.Schema(type=types.Type.STRING)},
        required=["location"],
    ),
)


def get_weather(location: str) -> dict[str, Any]:
    return {"location": location, "temperature_c": 22, "condition": "sunny"}  # a stand-in


async def main() -> None:
    client = genai.Client(api_key=API_KEY, http_options={"base_url": URL})
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT],
        system_instruction="You are a weather assistant. Answer in one sentence.",
        tools=[types.Tool(function_declarations=[GET_WEATHER])],
    )
    answer = ""
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        question = "What is the weather in Tokyo?"
        print(f"You: {question}")
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text=question)])
        )
        async for message in session.receive():
            if message.tool_call:
                responses = []
                for call in message.tool_call.function_calls or []:
                    print(f"Tool call: {call.name}({call.args})")
                    result = get_weather(**(call.args or {}))
                    print(f"Tool result: {result}")
                    responses.append(
                        types.FunctionResponse(
                            id=call.id, name=call.name, response={"output": result}
                        )
                    )
                await session.send_tool_response(function_responses=responses)
            if message.text:
                answer += message.text
    print(f"Model: {answer}")
    if not answer:
        raise RuntimeError("no answer")


if __name__ == "__main__":
    asyncio.run(main())
