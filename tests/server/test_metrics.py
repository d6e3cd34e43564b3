"""``/metrics`` (Prometheus) and ``/readyz`` on a real server with the echo engine."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import openlive
from openlive import Client
from openlive.server import ServerConfig

from ..conftest import RunningServer, running_app

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
LIGHTS = {
    "name": "turn_on_the_lights",
    "parameters": {"type": "OBJECT", "properties": {"room": {"type": "STRING"}}},
}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(base: str, verify: ssl.SSLContext | bool = True) -> Samples:
    async with httpx.AsyncClient(verify=verify) as http:
        response = await http.get(base + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until(server: RunningServer, check: Callable[[Samples], bool]) -> Samples:
    """Scrape until ``check`` holds (sessions end in the background after the client
    leaves); fails if it never does."""
    for _ in range(200):
        samples = await scrape(server.http)
        if check(samples):
            return samples
        await asyncio.sleep(0.05)
    pytest.fail(f"metrics never got there: {samples}")


async def text_session(server: RunningServer, *prompts: str) -> None:
    client = Client(base_url=server.http)
    config = {"response_modalities": ["TEXT"]}
    async with client.aio.live.connect(model="gemini-2.0-flash", config=config) as session:
        for prompt in prompts:
            await session.send_client_content(turns=prompt)
            text = "".join([m.text or "" async for m in session.receive()])
            assert text == f"echo: {prompt}"


async def refused_1007(server: RunningServer) -> None:
    async with connect(server.ws + PATH) as ws:
        await ws.send(json.dumps({"clientContent": {"turnComplete": True}}))
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1007


async def test_sessions_turns_closes_and_latency_are_counted(echo_server: RunningServer) -> None:
    before = await scrape(echo_server.http)
    assert value(before, "openlive_sessions_open") == 0
    assert value(before, "openlive_model_loaded", model="models/echo", engine="echo") == 1
    assert value(before, "openlive_build_info", version=openlive.__version__) == 1

    await text_session(echo_server, "one", "two")
    await text_session(echo_server, "three")
    await refused_1007(echo_server)

    method = "BidiGenerateContent"
    after = await until(
        echo_server,
        lambda s: (
            value(s, "openlive_session_closes_total", code="1000") >= 2
            and value(s, "openlive_session_closes_total", code="1007") >= 1
        ),
    )
    assert value(after, "openlive_sessions_started_total", method=method) == 2
    assert value(after, "openlive_session_closes_total", code="1000") == 2
    assert value(after, "openlive_session_closes_total", code="1007") == 1
    assert value(after, "openlive_turns_completed_total", modality="text") == 3
    assert value(after, "openlive_turns_completed_total", modality="audio") == 0
    assert value(after, "openlive_text_first_reply_seconds_count") == 3
    assert value(after, "openlive_text_first_reply_seconds_bucket", le="+Inf") == 3
    assert value(after, "openlive_text_first_reply_seconds_sum") > 0
    assert value(after, "openlive_voice_first_reply_seconds_count") == 0
    assert value(after, "openlive_sessions_open") == 0
    assert value(after, "openlive_tool_calls_total") == 0
    assert value(after, "openlive_connections_refused_total") == 0
    assert value(after, "openlive_ready") == 1
    assert ("openlive_event_loop_lag_seconds", frozenset({("stat", "worst")})) in after
    for kind in ("recognition", "reply", "continuation", "interim", "prefill", "synthesis"):
        assert value(after, "openlive_compute_seconds_total", kind=kind) >= 0
        assert value(after, "openlive_compute_wait_seconds_total", kind=kind) >= 0
    for queue in ("outbox", "audio_in", "speech_text", "speech_audio"):
        assert value(after, "openlive_queue_items", queue=queue) == 0


async def test_open_sessions_queues_and_tool_calls_while_serving(
    echo_server: RunningServer,
) -> None:
    client = Client(base_url=echo_server.http)
    config = {"response_modalities": ["TEXT"], "tools": [{"function_declarations": [LIGHTS]}]}
    async with client.aio.live.connect(model="gemini-x", config=config) as session:
        during = await scrape(echo_server.http)
        assert value(during, "openlive_sessions_open") == 1
        assert value(during, "openlive_connections_open") == 1
        assert ("openlive_queue_items_max", frozenset({("queue", "outbox")})) in during
        await session.send_client_content(
            turns='[[call turn_on_the_lights {"room": "a"}]] [[call turn_on_the_lights {}]]'
        )
        async for message in session.stream():
            if message.tool_call:
                calls = message.tool_call.function_calls
                break
        await session.send_tool_response(
            [{"id": c.id, "name": c.name, "response": {"ok": True}} for c in calls]
        )
        async for _ in session.receive():
            pass
    after = await until(
        echo_server, lambda s: value(s, "openlive_session_closes_total", code="1000") >= 1
    )
    assert value(after, "openlive_tool_calls_total") == 2
    assert value(after, "openlive_turns_completed_total", modality="text") == 1
    assert value(after, "openlive_sessions_open") == 0


async def test_metrics_on_the_tls_listener(echo_server: RunningServer) -> None:
    assert echo_server.https and echo_server.app.tls_cert
    ctx = ssl.create_default_context(cafile=str(echo_server.app.tls_cert))
    await text_session(echo_server, "hello")
    await until(echo_server, lambda s: value(s, "openlive_session_closes_total", code="1000") >= 1)
    secure = await scrape(echo_server.https, verify=ctx)
    assert value(secure, "openlive_turns_completed_total", modality="text") == 1


async def test_readyz_follows_draining_and_loading(echo_server: RunningServer) -> None:
    app = echo_server.app
    async with httpx.AsyncClient() as http:
        ready = await http.get(echo_server.http + "/readyz")
        assert ready.status_code == 200
        assert ready.json()["ready"] is True
        app.draining = True
        try:
            draining = await http.get(echo_server.http + "/readyz")
            assert draining.status_code == 503
            assert draining.json()["ready"] is False and draining.json()["draining"] is True
            assert (await http.get(echo_server.http + "/healthz")).status_code == 200
            assert value(await scrape(echo_server.http), "openlive_ready") == 0
            assert value(await scrape(echo_server.http), "openlive_draining") == 1
        finally:
            app.draining = False
        listing = app.registry.listing
        app.registry.listing = lambda: [  # type: ignore[method-assign]
            {"name": "models/embedded", "engine": "embedded", "ready": False, "loading": True}
        ]
        try:
            loading = await http.get(echo_server.http + "/readyz")
            assert loading.status_code == 503
            assert loading.json()["loading"] == ["models/embedded"]
            samples = await scrape(echo_server.http)
            labels = {"model": "models/embedded", "engine": "embedded"}
            assert value(samples, "openlive_model_loaded", **labels) == 0
            assert value(samples, "openlive_model_loading", **labels) == 1
        finally:
            app.registry.listing = listing  # type: ignore[method-assign]
        assert (await http.get(echo_server.http + "/readyz")).status_code == 200


async def test_each_server_counts_its_own(echo_server: RunningServer) -> None:
    """A second server in the same process starts from zero (registries are per App)."""
    await text_session(echo_server, "first")
    config = ServerConfig(port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0)
    async with running_app(config) as other:
        fresh = await scrape(other.http)
        assert value(fresh, "openlive_sessions_started_total", method="BidiGenerateContent") == 0
    mine = await scrape(echo_server.http)
    assert value(mine, "openlive_sessions_started_total", method="BidiGenerateContent") == 1
