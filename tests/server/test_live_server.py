"""The server in-process with the echo engine, over real sockets: raw frames and the SDK."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openlive import Client, LiveConnectionClosed

from ..conftest import RunningServer, running_app

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
TEXT = {"generationConfig": {"responseModalities": ["TEXT"]}}


def setup(model: str = "models/gemini-2.0-flash-exp", **extra: object) -> str:
    return json.dumps({"setup": {"model": model, **TEXT, **extra}})


def user(text: str) -> str:
    return json.dumps(
        {
            "clientContent": {
                "turns": [{"role": "user", "parts": [{"text": text}]}],
                "turnComplete": True,
            }
        }
    )


async def until_turn_complete(ws) -> list[dict]:
    out = []
    while True:
        msg = json.loads(await ws.recv())
        out.append(msg)
        if msg.get("serverContent", {}).get("turnComplete"):
            return out


async def closed_with(ws) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(100):
            await ws.recv()
    rcvd = info.value.rcvd
    assert rcvd is not None
    return rcvd.code, rcvd.reason


async def test_text_turn_raw(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        await ws.send(setup())
        first = json.loads(await ws.recv())
        assert list(first) == ["setupComplete"] and first["setupComplete"]["sessionId"]
        await ws.send(user("Hello world"))
        msgs = await until_turn_complete(ws)
        text = "".join(
            p["text"]
            for m in msgs
            if "modelTurn" in m.get("serverContent", {})
            for p in m["serverContent"]["modelTurn"]["parts"]
        )
        assert text == "echo: Hello world"
        assert len([m for m in msgs if "modelTurn" in m.get("serverContent", {})]) > 1
        assert msgs[-2] == {"serverContent": {"generationComplete": True}}
        assert msgs[-1]["usageMetadata"]["totalTokenCount"] > 0


async def test_paths_with_double_slash_prefix_and_versions(echo_server: RunningServer) -> None:
    for path in [
        "//ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent",
        "/some/prefix" + PATH.replace("v1beta", "v1alpha"),
        "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent",
    ]:
        async with connect(echo_server.ws + path) as ws:
            model = (
                "publishers/google/models/gemini-2.0-flash"
                if "aiplatform" in path
                else "models/gemini-2.0-flash"
            )
            await ws.send(setup(model))
            assert "setupComplete" in json.loads(await ws.recv())
            await ws.send(user("hi"))
            last = (await until_turn_complete(ws))[-1]
            if "aiplatform" in path:
                assert "candidatesTokenCount" in last["usageMetadata"]
                assert "responseTokenCount" not in last["usageMetadata"]
            else:
                assert "responseTokenCount" in last["usageMetadata"]


async def test_unknown_model_closes_1008_with_official_wording(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH.replace("v1beta", "v1")) as ws:
        await ws.send(setup("models/foo"))
        code, reason = await closed_with(ws)
    assert code == 1008
    assert reason == (
        "models/foo is not found for API version v1, or is not supported for bidiGenerateContent."
    )


async def test_first_frame_not_setup_closes_1007(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        await ws.send(user("hi"))
        code, reason = await closed_with(ws)
    assert code == 1007 and "first message must be setup" in reason


async def test_unsupported_modality_closes_1007(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        await ws.send(
            json.dumps(
                {
                    "setup": {
                        "model": "models/gemini-2.0-flash",
                        "generationConfig": {"responseModalities": ["IMAGE"]},
                    }
                }
            )
        )
        code, reason = await closed_with(ws)
    assert code == 1007 and "IMAGE" in reason


async def test_unknown_voice_closes_1007(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        config = {
            "responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Nobody"}}},
        }
        await ws.send(json.dumps({"setup": {"model": "models/echo", "generationConfig": config}}))
        code, reason = await closed_with(ws)
    assert code == 1007 and "Nobody" in reason


async def test_malformed_frame_mid_session_only_ends_that_session(
    echo_server: RunningServer,
) -> None:
    async with connect(echo_server.ws + PATH) as good, connect(echo_server.ws + PATH) as bad:
        await good.send(setup())
        await bad.send(setup())
        await good.recv()
        await bad.recv()
        await bad.send("{not json")
        code, reason = await closed_with(bad)
        assert code == 1007 and "JSON" in reason
        await good.send(user("still here"))
        msgs = await until_turn_complete(good)
        assert msgs[-1]["serverContent"]["turnComplete"]


async def test_oversize_frame_closes_1009(tmp_path, monkeypatch) -> None:
    from openlive.server import ServerConfig

    config = ServerConfig(port=0, no_tls=True, model="echo", max_frame_bytes=4096)
    async with running_app(config) as server, connect(server.ws + PATH, max_size=None) as ws:
        await ws.send(setup())
        await ws.recv()
        await ws.send(json.dumps({"realtimeInput": {"text": "x" * 10000}}))
        code, reason = await closed_with(ws)
    assert code == 1009 and reason


async def test_engine_crash_closes_1011_and_others_continue(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as a, connect(echo_server.ws + PATH) as b:
        for ws in (a, b):
            await ws.send(setup())
            await ws.recv()
        await a.send(user("[[fail]]"))
        code, reason = await closed_with(a)
        assert code == 1011 and "failure injected" in reason
        await b.send(user("fine"))
        assert (await until_turn_complete(b))[-1]["serverContent"]["turnComplete"]


async def test_interruption_raw(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        await ws.send(setup())
        await ws.recv()
        await ws.send(user("[[slow]] a long answer that takes a while"))
        first = json.loads(await ws.recv())
        assert "modelTurn" in first["serverContent"]
        await ws.send(user("new question"))
        msgs = await until_turn_complete(ws)
        assert msgs[-2:] == [
            {"serverContent": {"interrupted": True}},
            {"serverContent": {"turnComplete": True}},
        ]
        second = await until_turn_complete(ws)
        text = "".join(
            p["text"]
            for m in second
            if "modelTurn" in m.get("serverContent", {})
            for p in m["serverContent"]["modelTurn"]["parts"]
        )
        assert text == "echo: new question"


async def test_api_keys(tmp_path, monkeypatch) -> None:
    from openlive.server import ServerConfig

    config = ServerConfig(port=0, no_tls=True, model="echo", api_keys=["sekrit"])
    async with running_app(config) as server:
        async with connect(server.ws + PATH + "?key=wrong") as ws:
            await ws.send(setup())
            code, reason = await closed_with(ws)
            assert code == 1008 and "API key not valid" in reason
        async with connect(server.ws + PATH, additional_headers={"x-goog-api-key": "sekrit"}) as ws:
            await ws.send(setup())
            assert "setupComplete" in json.loads(await ws.recv())
        async with connect(
            server.ws + PATH, additional_headers={"Authorization": "Bearer sekrit"}
        ) as ws:
            await ws.send(setup())
            assert "setupComplete" in json.loads(await ws.recv())


async def test_admission_control(tmp_path, monkeypatch) -> None:
    from openlive.server import ServerConfig

    config = ServerConfig(port=0, no_tls=True, model="echo", max_sessions=1)
    async with running_app(config) as server, connect(server.ws + PATH) as one:
        await one.send(setup())
        await one.recv()
        async with connect(server.ws + PATH) as two:
            await two.send(setup())
            code, reason = await closed_with(two)
        assert code == 1011 and "capacity" in reason and "retry" in reason


async def test_music_route_refuses_live_models_constrained_route_takes_keys(
    echo_server: RunningServer,
) -> None:
    music = PATH.replace("BidiGenerateContent", "BidiGenerateMusic")
    async with connect(echo_server.ws + music) as ws:
        await ws.send(setup())  # a Live model on the music route
        code, reason = await closed_with(ws)
        assert code == 1008 and "is not supported for bidiGenerateMusic" in reason
    # the Constrained route serves ephemeral tokens (tests/server/test_tokens.py) and API keys
    constrained = PATH.replace("BidiGenerateContent", "BidiGenerateContentConstrained")
    async with connect(echo_server.ws + constrained + "?key=any") as ws:
        await ws.send(setup())
        assert "setupComplete" in json.loads(await ws.recv())


async def test_healthz_and_models(echo_server: RunningServer) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        health = (await http.get(echo_server.http + "/healthz")).json()
        assert health["status"] == "ok"
        models = (await http.get(echo_server.http + "/v1beta/models")).json()["models"]
        assert any(m["name"] == "models/echo" for m in models)
        assert (await http.get(echo_server.http + "/nope")).status_code == 404


async def test_sdk_over_ws_and_wss(echo_server: RunningServer) -> None:
    assert echo_server.https
    ctx = ssl.create_default_context(cafile=str(echo_server.app.tls_cert))
    for url in (echo_server.http, echo_server.https):
        client = Client(base_url=url, api_key="k", ssl=ctx)
        async with client.aio.live.connect(
            model="gemini-2.0-flash-exp", config={"response_modalities": ["TEXT"]}
        ) as s:
            assert s.session_id
            await s.send_client_content(turns="one", turn_complete=True)
            texts = [m.text async for m in s.receive() if m.text]
            assert "".join(texts) == "echo: one"
            # a second turn: receive() must not have lost anything in between
            await s.send_client_content(turns={"role": "user", "parts": [{"text": "two"}]})
            await asyncio.sleep(0.2)  # let the whole reply arrive before reading
            texts = [m.text async for m in s.receive() if m.text]
            assert "".join(texts) == "echo: two"


async def test_sdk_close_surfaces_code_and_reason(echo_server: RunningServer) -> None:
    client = Client(base_url=echo_server.http)
    with pytest.raises(LiveConnectionClosed) as info:
        async with client.aio.live.connect(model="nope", config={"responseModalities": ["TEXT"]}):
            pass
    assert info.value.code == 1008 and "models/nope is not found" in info.value.reason
    async with client.aio.live.connect(
        model="gemini-2.0-flash", config={"responseModalities": ["TEXT"]}
    ) as s:
        await s.send_client_content(turns="[[fail]]")
        with pytest.raises(LiveConnectionClosed) as info:
            async for _ in s.receive():
                pass
        assert info.value.code == 1011


async def test_sdk_loose_shapes_and_callbacks(echo_server: RunningServer) -> None:
    client = Client(base_url=echo_server.http)
    got: list = []
    opened: list = []
    done = asyncio.Event()

    def on_message(m) -> None:
        got.append(m)
        if m.server_content and m.server_content.turn_complete:
            done.set()

    callbacks = {"on_open": lambda: opened.append(1), "on_message": on_message}
    async with client.aio.live.connect(
        model="echo", config={"responseModalities": ["TEXT"]}, callbacks=callbacks
    ) as s:
        await s.send(
            {
                "clientContent": {
                    "turns": [{"role": "user", "parts": [{"text": "a"}]}],
                    "turnComplete": True,
                }
            }
        )
        await asyncio.wait_for(done.wait(), 5)
        done.clear()
        await s.send("b")  # Firebase style: turn_complete defaults to True
        await asyncio.wait_for(done.wait(), 5)
        await s.send_realtime_input(realtime_input={"mediaChunks": [{"data": b"\x00\x01"}]})
        await s.send_realtime_input(audio=b"\x00\x00" * 160)
        await s.send_media_chunks([b"\x00\x00", {"data": "AAA=", "mimeType": "audio/pcm"}])
        with pytest.raises(ValueError):
            await s.send_realtime_input(text="x", audio=b"")
    assert opened == [1]
    assert got[0].setup_complete is not None
    texts = "".join(m.text or "" for m in got)
    assert "echo: a" in texts and "echo: b" in texts


async def test_sync_client_in_thread(echo_server: RunningServer) -> None:
    def work() -> str:
        client = Client(base_url=echo_server.http)
        with client.live.connect(model="echo", config={"response_modalities": ["TEXT"]}) as s:
            s.send_client_content(turns="sync hello")
            return "".join(m.text or "" for m in s.receive())

    assert await asyncio.to_thread(work) == "echo: sync hello"


async def test_realtime_audio_reaches_the_engine(echo_server: RunningServer) -> None:
    import httpx

    async with connect(echo_server.ws + PATH) as ws:
        await ws.send(setup())
        await ws.recv()
        chunk = base64.b64encode(b"\x01\x00" * 1600).decode()
        for _ in range(5):
            await ws.send(
                json.dumps(
                    {
                        "realtimeInput": {
                            "audio": {"mimeType": "audio/pcm;rate=16000", "data": chunk}
                        }
                    }
                )
            )
        await ws.send(user("done"))
        await until_turn_complete(ws)
    async with httpx.AsyncClient() as http:
        health = (await http.get(echo_server.http + "/healthz")).json()
    echo = next(m for m in health["models"] if m["engine"] == "echo")
    assert echo["audio_chunks"] == 5 and echo["audio_bytes"] == 5 * 3200


async def test_sdk_media_stream_and_tool_response_shapes(echo_server: RunningServer) -> None:
    client = Client(base_url=echo_server.http)

    async def chunks():
        for _ in range(3):
            yield b"\x00\x00" * 160

    async with client.aio.live.connect(model="echo", config={"responseModalities": ["TEXT"]}) as s:
        await s.send_media_stream(chunks())
        await s.send_client_content(turns="after stream")
        assert "".join([m.text or "" async for m in s.receive()]) == "echo: after stream"
        # no tool call is pending: the server refuses the response with a reason
        await s.send_tool_response(
            tool_response={
                "functionResponses": [{"id": "fc-1", "name": "f", "response": {"ok": True}}]
            }
        )
        with pytest.raises(LiveConnectionClosed) as info:
            [m async for m in s.stream()]
    assert info.value.code == 1007 and "no tool call is pending" in info.value.reason


async def test_language_without_a_voice_closes_1007(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        config = {"responseModalities": ["AUDIO"], "speechConfig": {"languageCode": "tlh-KL"}}
        await ws.send(json.dumps({"setup": {"model": "models/echo", "generationConfig": config}}))
        code, reason = await closed_with(ws)
    assert code == 1007 and "tlh-KL" in reason and "no voice" in reason


async def test_activity_markers_need_manual_mode(echo_server: RunningServer) -> None:
    async with connect(echo_server.ws + PATH) as ws:
        await ws.send(setup())
        await ws.recv()
        await ws.send(json.dumps({"realtimeInput": {"activityStart": {}}}))
        code, reason = await closed_with(ws)
    assert code == 1007 and "automaticActivityDetection" in reason
