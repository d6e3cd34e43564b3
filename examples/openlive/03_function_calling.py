"""Live function calling with openlive's SDK: the model calls a declared function, the client runs
it and answers with the guide's `toolResponse` shape, and the same turn goes on with the answer.

    export OPENLIVE_URL=http://127.0.0.1:8080
    python examples/openlive/03_function_calling.py

openlive's SDK can also declare Python functions and answer calls by itself:
`openlive.client.Tools` (see docs/sdk.md).
"""

import asyncio
import os
from typing import Any

from openlive import Client

URL = os.environ.get("OPENLIVE_URL", "http://127.0.0.1:8080")
MODEL = "gemini-live-2.5-flash-preview"

WEATHER_TOOL = {
    "functionDeclarations": [
        {
            "name": "getWeather",
            "description": "Get the current weather in a location.",
            "parameters": {
                "type": "OBJECT",
                "properties": {"location": {"type": "STRING"}},
                "required": ["location"],
            },
        }
    ]
}


def get_weather(location: str) -> dict[str, Any]:
    return {"location": location, "temperature_c": 22, "condition": "sunny"}  # a stand-in


async def main() -> None:
    config = {
        "responseModalities": ["TEXT"],
        "systemInstruction": "You are a weather assistant. Answer in one sentence.",
        "tools": [WEATHER_TOOL],
    }
    answer = ""
    async with Client(base_url=URL).aio.live.connect(model=MODEL, config=config) as session:
        print("You: What is the weather in Tokyo?")
        await session.send_client_content(turns="What is the weather in Tokyo?")
        async for message in session.receive():
            if message.tool_call:
                responses = []
                for call in message.tool_call.function_calls:
                    print(f"Tool call: {call.name}({call.args})")
                    result = get_weather(**(call.args or {}))
                    print(f"Tool result: {result}")
                    responses.append(
                        {"id": call.id, "name": call.name, "response": {"output": result}}
                    )
                await session.send_tool_response(tool_response={"functionResponses": responses})
            if message.text:
                answer += message.text
    print(f"Model: {answer}")
    if not answer:
        raise RuntimeError("no answer")


if __name__ == "__main__":
    asyncio.run(main())
