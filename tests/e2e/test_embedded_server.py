"""Whole stories on ``openlive serve`` with the embedded model: openlive's SDK, its CLI, and the
official SDKs talking to a real LLM."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys

import pytest

from openlive import Client

from ..conformance.test_js_genai import JS
from ..helpers import ServerProcess

pytestmark = pytest.mark.model
TEXT = {"response_modalities": ["TEXT"], "temperature": 0.0}


def sdk(server: ServerProcess) -> Client:
    ctx = ssl.create_default_context(cafile=server.cert)
    return Client(base_url=server.https_url, ssl=ctx)


async def test_factual_question_with_usage(embedded_serve: ServerProcess) -> None:
    async with sdk(embedded_serve).aio.live.connect(
        model="gemini-2.0-flash-live-001", config=TEXT
    ) as s:
        await s.send_client_content(turns="What is the capital of France? Answer in one word.")
        messages = [m async for m in s.receive()]
    text = "".join(m.text or "" for m in messages)
    assert "paris" in text.lower()
    usage = messages[-1].usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.prompt_token_count > 10
    assert usage.response_token_count and usage.response_token_count >= 1


async def test_multi_turn_memory(embedded_serve: ServerProcess) -> None:
    async with sdk(embedded_serve).aio.live.connect(
        model="gemini-live-2.5-flash-preview", config=TEXT
    ) as s:
        await s.send_client_content(turns="My name is Ada. Please greet me.")
        [m async for m in s.receive()]
        await s.send_client_content(turns="What is my name?")
        text = "".join([m.text or "" async for m in s.receive()])
    assert "ada" in text.lower()


async def test_interrupt_real_model_then_answer(embedded_serve: ServerProcess) -> None:
    async with sdk(embedded_serve).aio.live.connect(model="gemini-2.0-flash", config=TEXT) as s:
        await s.send_client_content(turns="Write a very long story about a dragon.")
        stream = s.receive()
        first = await stream.__anext__()
        assert first.text
        await s.send_client_content(turns="Stop. What is the capital of Italy? One word.")
        tail = [m async for m in stream]
        assert tail[-2].server_content and tail[-2].server_content.interrupted
        text = "".join([m.text or "" async for m in s.receive()])
    assert "rome" in text.lower()


def test_google_genai_chats_with_embedded_model(embedded_serve: ServerProcess) -> None:
    code = """
import asyncio, sys
from google import genai
from google.genai import types
async def main():
    client = genai.Client(api_key="k", http_options={"base_url": sys.argv[1]})
    async with client.aio.live.connect(model="gemini-2.0-flash-exp",
            config={"response_modalities": ["TEXT"], "temperature": 0}) as s:
        await s.send_client_content(turns=types.Content(role="user", parts=[types.Part(
            text="What is the capital of Japan? Answer in one word.")]))
        print("".join([m.text or "" async for m in s.receive()]))
asyncio.run(main())
"""
    env = {**os.environ, "SSL_CERT_FILE": embedded_serve.cert or ""}
    out = subprocess.run(
        [sys.executable, "-c", code, embedded_serve.https_url or ""],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "tokyo" in out.stdout.lower()


def test_js_genai_chats_with_embedded_model(embedded_serve: ServerProcess) -> None:
    script = """
import { GoogleGenAI, Modality } from "@google/genai";
const ai = new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: process.argv[2] } });
let text = "";
let done;
const finished = new Promise((r) => (done = r));
const session = await ai.live.connect({
  model: "gemini-2.0-flash-exp",
  config: { responseModalities: [Modality.TEXT], temperature: 0 },
  callbacks: {
    onmessage: (m) => {
      text += m.text ?? "";
      if (m.serverContent?.turnComplete) done();
    },
  },
});
session.sendClientContent({ turns: "What is the capital of Germany? Answer in one word." });
await finished;
session.close();
console.log(JSON.stringify({ text }));
"""
    path = JS / "ask_embedded.mjs"
    path.write_text(script)
    try:
        out = subprocess.run(
            ["node", str(path), embedded_serve.http_url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        path.unlink()
    assert out.returncode == 0, out.stderr
    assert "berlin" in json.loads(out.stdout)["text"].lower()


def test_js_genai_weather_story_on_the_embedded_model(embedded_serve: ServerProcess) -> None:
    script = """
import { GoogleGenAI, Modality } from "@google/genai";
const ai = new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: process.argv[2] } });
const weather = JSON.parse(process.argv[3]);
let text = "";
let calls = [];
let done;
const finished = new Promise((r) => (done = r));
const session = await ai.live.connect({
  model: "gemini-live-2.5-flash-preview",
  config: {
    responseModalities: [Modality.TEXT],
    temperature: 0,
    tools: [{ functionDeclarations: [weather] }],
  },
  callbacks: {
    onmessage: (m) => {
      text += m.text ?? "";
      if (m.toolCall) {
        calls = m.toolCall.functionCalls;
        session.sendToolResponse({
          functionResponses: calls.map((c) => ({
            id: c.id, name: c.name, response: { output: { temperature_c: 21, sky: "sunny" } },
          })),
        });
      }
      if (m.serverContent?.turnComplete) done();
    },
  },
});
session.sendClientContent({ turns: "What's the weather in Tokyo?" });
await finished;
session.close();
console.log(JSON.stringify({ text, calls }));
"""
    path = JS / "weather_embedded.mjs"
    path.write_text(script)
    try:
        out = subprocess.run(
            ["node", str(path), embedded_serve.http_url, json.dumps(WEATHER_TOOL)],
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        path.unlink()
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [c["name"] for c in result["calls"]] == ["get_weather"]
    assert "tokyo" in result["calls"][0]["args"]["city"].lower()
    assert "21" in result["text"] and "sunny" in result["text"].lower()


def test_openlive_chat_cli(embedded_serve: ServerProcess) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "openlive.cli.main", "chat", "--url", embedded_serve.http_url],
        input="What is the capital of France? Answer in one word.\n/quit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "model> " in out.stdout and "paris" in out.stdout.lower()


def test_openlive_models_cli(embedded_serve: ServerProcess) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "openlive.cli.main", "models", "--url", embedded_serve.http_url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert "models/embedded" in out.stdout and "(default)" in out.stdout
    assert "models/gemini-*" in out.stdout


def test_chat_cli_connection_failure_is_clear() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "openlive.cli.main", "chat", "--url", "http://127.0.0.1:9"],
        input="hi\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 1
    assert "cannot reach" in out.stderr and "openlive serve" in out.stderr


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING", "description": "City name"}},
        "required": ["city"],
    },
}
WEATHER_RESULT = {"output": {"temperature_c": 21, "sky": "sunny"}}


async def test_weather_story_on_the_embedded_model(embedded_serve: ServerProcess) -> None:
    """The seeds' function-calling story: the model calls get_weather for the city asked
    about, the client answers, the same turn goes on and the answer uses the result."""
    config = {**TEXT, "tools": [{"function_declarations": [WEATHER_TOOL]}]}
    async with sdk(embedded_serve).aio.live.connect(model="gemini-2.0-flash", config=config) as s:
        await s.send_client_content(turns="What's the weather in Tokyo?")
        calls = []
        before = ""
        async for message in s.stream():
            before += message.text or ""
            if message.tool_call:
                calls = message.tool_call.function_calls or []
                break
        assert [c.name for c in calls] == ["get_weather"]
        assert "tokyo" in calls[0].args["city"].lower() and calls[0].id
        assert "{" not in before  # no JSON reaches the user
        await s.send_tool_response(
            [{"id": calls[0].id, "name": "get_weather", "response": WEATHER_RESULT}]
        )
        messages = [m async for m in s.receive()]
    text = "".join(m.text or "" for m in messages)
    assert "21" in text and "sunny" in text.lower()
    assert messages[-1].server_content and messages[-1].server_content.turn_complete


def test_google_genai_weather_story_on_the_embedded_model(embedded_serve: ServerProcess) -> None:
    script = f"""
import asyncio, sys
from google import genai
from google.genai import types
async def main():
    client = genai.Client(api_key="k", http_options={{"base_url": sys.argv[1]}})
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(**{WEATHER_TOOL!r})])
    config = types.LiveConnectConfig(
        response_modalities=["TEXT"], temperature=0.0, tools=[tool]
    )
    async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as s:
        question = types.Part(text="What's the weather in Tokyo?")
        await s.send_client_content(turns=types.Content(role="user", parts=[question]))
        text = ""
        async for m in s.receive():  # one turn: the call, then the answer that uses it
            text += m.text or ""
            if m.tool_call:
                fc = m.tool_call.function_calls[0]
                print("CALL", fc.name, fc.args["city"])
                await s.send_tool_response(function_responses=[types.FunctionResponse(
                    id=fc.id, name=fc.name, response={WEATHER_RESULT!r})])
        print("TEXT", text)
asyncio.run(main())
"""
    env = {**os.environ, "SSL_CERT_FILE": embedded_serve.cert}
    out = subprocess.run(
        [sys.executable, "-c", script, embedded_serve.https_url],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "CALL get_weather Tokyo" in out.stdout
    answer = out.stdout.split("TEXT", 1)[1].lower()
    assert "21" in answer and "sunny" in answer
