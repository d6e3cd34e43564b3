"""The unmodified google-genai Python SDK (pinned 3.4.0) against ``openlive serve`` over wss."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..helpers import ServerProcess

genai = pytest.importorskip("google.genai")
from google.genai import errors, types  # noqa: E402

pytestmark = pytest.mark.conformance
TEXT = {"response_modalities": ["TEXT"]}
MODEL = "gemini-live-2.5-flash-preview"


def test_sdk_version_is_the_captured_one() -> None:
    assert genai.__version__ == "3.4.0"


@contextmanager
def sdk_client(server: ServerProcess, **options: object) -> Iterator[genai.Client]:
    """A google-genai client trusting openlive's generated certificate (SSL_CERT_FILE)."""
    assert server.https_url and server.cert
    old = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = server.cert
    try:
        http_options = {"base_url": server.https_url, **options}
        yield genai.Client(api_key="test-key", http_options=http_options)
    finally:
        if old is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = old


def user(text: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=text)])


async def turn_text(session) -> tuple[str, list]:
    messages = [m async for m in session.receive()]
    return "".join(m.text or "" for m in messages), messages


async def test_connect_and_stream_text(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
            assert session.session_id
            await session.send_client_content(
                turns=types.Content(role="user", parts=[types.Part(text="Hello world")]),
                turn_complete=True,
            )
            text, messages = await turn_text(session)
    assert text == "echo: Hello world"
    chunks = [m for m in messages if m.text]
    assert len(chunks) > 1, "text arrives in several streamed chunks"
    assert any(m.server_content.generation_complete for m in messages if m.server_content)
    last = messages[-1]
    assert last.server_content.turn_complete
    assert last.usage_metadata.prompt_token_count > 0
    assert last.usage_metadata.response_token_count == 3
    assert last.usage_metadata.total_token_count == (
        last.usage_metadata.prompt_token_count + last.usage_metadata.response_token_count
    )


@pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
async def test_api_versions(echo_serve: ServerProcess, version: str) -> None:
    with sdk_client(echo_serve, api_version=version) as client:
        async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_client_content(turns=user("ping"))
            text, _ = await turn_text(session)
    assert text == "echo: ping"


async def test_multi_turn_keeps_history(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_client_content(turns=user("first question here"))
            text1, _m1 = await turn_text(session)
            await session.send_client_content(turns=user("second"))
            text2, m2 = await turn_text(session)
    assert (text1, text2) == ("echo: first question here", "echo: second")
    # the echo engine counts every history word as a prompt token
    assert m2[-1].usage_metadata.prompt_token_count == 3 + 4 + 1


async def test_prefill_with_model_turns(echo_serve: ServerProcess) -> None:
    history = [
        types.Content(role="user", parts=[types.Part(text="My name is Ada")]),
        types.Content(role="model", parts=[types.Part(text="Hello Ada")]),
        types.Content(role="user", parts=[types.Part(text="remember me")]),
    ]
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_client_content(turns=history, turn_complete=False)
            await session.send_client_content(turn_complete=True)
            text, messages = await turn_text(session)
    assert text == "echo: remember me"
    assert messages[-1].usage_metadata.prompt_token_count == 4 + 2 + 2


async def test_realtime_text_and_system_instruction(echo_serve: ServerProcess) -> None:
    config = {**TEXT, "system_instruction": "Be terse and exact."}
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            await session.send_realtime_input(text="hello realtime")
            text, messages = await turn_text(session)
    assert text == "echo: hello realtime"
    assert messages[-1].usage_metadata.prompt_token_count == 2 + 4


async def test_interruption(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_client_content(turns=user("[[slow]] a story that goes on and on"))
            stream = session.receive()
            first = await stream.__anext__()
            assert first.text
            await session.send_client_content(turns=user("stop, new question"))
            rest = [m async for m in stream]
            assert rest[-2].server_content.interrupted is True
            assert rest[-1].server_content.turn_complete is True
            assert not any(m.server_content.generation_complete for m in rest if m.server_content)
            text, _ = await turn_text(session)
    assert text == "echo: stop, new question"


async def test_unknown_model(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client, pytest.raises(errors.APIError) as info:
        async with client.aio.live.connect(model="foo", config=TEXT) as session:
            await session.send_client_content(turns=user("hi"))
            await turn_text(session)
    assert info.value.code == 1008
    assert "models/foo is not found for API version v1, or is not supported" in str(info.value)


async def test_bad_input_closes_1007_and_server_keeps_serving(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client:
        with pytest.raises(errors.APIError) as info:
            async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
                await session.send_realtime_input(
                    audio=types.Blob(data=b"\x00\x01", mime_type="audio/ogg")
                )
                await turn_text(session)
        assert info.value.code == 1007
        assert "audio/ogg" in str(info.value)
        async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_client_content(turns=user("still up"))
            text, _ = await turn_text(session)
    assert text == "echo: still up"


async def test_audio_session_with_transcriptions(
    echo_serve: ServerProcess, question_wav: Path
) -> None:
    from openlive.client import pcm_chunks

    config = types.LiveConnectConfig(
        response_modalities=["AUDIO"],
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Puck")
            )
        ),
    )
    chunks = list(pcm_chunks(question_wav)) + [bytes(3200)] * 15
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=config) as session:

            async def speak() -> None:
                for chunk in chunks:  # a microphone: 100 ms every 100 ms
                    await session.send_realtime_input(
                        audio=types.Blob(data=chunk, mime_type="audio/pcm;rate=16000")
                    )
                    await asyncio.sleep(0.1)

            speaker = asyncio.create_task(speak())
            messages = [m async for m in session.receive()]
            await speaker
    heard = "".join(
        m.server_content.input_transcription.text or ""
        for m in messages
        if m.server_content and m.server_content.input_transcription
    )
    said = " ".join(
        m.server_content.output_transcription.text or ""
        for m in messages
        if m.server_content and m.server_content.output_transcription
    )
    audio = b"".join(m.data for m in messages if m.data)
    assert "capital of france" in heard.lower()
    assert "echo" in said.lower()
    assert len(audio) > 24000 * 2 * 0.5  # over half a second of 24 kHz speech
    assert messages[-1].server_content.turn_complete


def tiny_jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


async def test_realtime_audio_and_video_accepted(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_realtime_input(
                audio=types.Blob(data=b"\x00\x00" * 1600, mime_type="audio/pcm;rate=16000")
            )
            await session.send_realtime_input(
                video=types.Blob(data=tiny_jpeg(), mime_type="image/jpeg")
            )
            await session.send_realtime_input(
                media=types.Blob(data=b"\x01\x02", mime_type="audio/pcm")
            )
            await session.send_client_content(turns=user("after media"))
            text, _ = await turn_text(session)
    assert text == "echo: after media"


async def test_vertex_express_mode(echo_serve: ServerProcess) -> None:
    assert echo_serve.https_url and echo_serve.cert
    os.environ["SSL_CERT_FILE"] = echo_serve.cert
    try:
        client = genai.Client(
            vertexai=True, api_key="vertex-key", http_options={"base_url": echo_serve.https_url}
        )
        async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
            await session.send_client_content(turns=user("vertex hello"))
            text, messages = await turn_text(session)
    finally:
        os.environ.pop("SSL_CERT_FILE", None)
    assert text == "echo: vertex hello"
    usage = messages[-1].usage_metadata
    assert usage.response_token_count == 3  # sent as candidatesTokenCount, mapped by the SDK


async def test_concurrent_sessions(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client:

        async def one(i: int) -> str:
            async with client.aio.live.connect(model=MODEL, config=TEXT) as session:
                await session.send_client_content(turns=user(f"session {i}"))
                return (await turn_text(session))[0]

        results = await asyncio.gather(*(one(i) for i in range(4)))
    assert results == [f"echo: session {i}" for i in range(4)]


async def test_function_calling_story(echo_serve: ServerProcess) -> None:
    """The seeds' weather story: a declared function, a toolCall with an id, the answer sent
    with send_tool_response, and the same turn going on with the result (echo engine rules:
    ``[[call NAME {args}]]`` makes the call)."""
    weather = types.FunctionDeclaration(
        name="get_weather",
        description="Current weather for a city.",
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={"city": types.Schema(type=types.Type.STRING)},
            required=["city"],
        ),
    )
    config = types.LiveConnectConfig(
        response_modalities=["TEXT"], tools=[types.Tool(function_declarations=[weather])]
    )
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            await session.send_client_content(
                turns=user('What is the weather in Tokyo? [[call get_weather {"city": "Tokyo"}]]')
            )
            calls = []
            async for message in session.receive():
                if message.tool_call:
                    calls = message.tool_call.function_calls or []
                    break
            assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Tokyo"})]
            assert calls[0].id
            await session.send_tool_response(
                function_responses=[
                    types.FunctionResponse(
                        id=calls[0].id, name="get_weather", response={"output": "sunny, 22 C"}
                    )
                ]
            )
            text, _ = await turn_text(session)
    assert text == 'echo: get_weather returned {"output": "sunny, 22 C"}'


async def test_a_google_hosted_tool_is_refused_clearly(echo_serve: ServerProcess) -> None:
    config = types.LiveConnectConfig(
        response_modalities=["TEXT"], tools=[types.Tool(google_search=types.GoogleSearch())]
    )
    with sdk_client(echo_serve) as client, pytest.raises(errors.APIError) as info:
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            await session.send_client_content(turns=user("hi"))
            async for _ in session.receive():
                pass
    assert info.value.code == 1007 and "googleSearch" in str(info.value)
