"""Ephemeral tokens: field-mask merging, the REST endpoint, redeeming on the Constrained route."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openlive.errors import PolicyViolation, Unauthenticated
from openlive.protocol import Method, Route
from openlive.protocol.credentials import Credential, KeyChecker, principal_of
from openlive.server import ServerConfig
from openlive.server.tokens import TokenService, apply_constraints, parse_field_mask
from openlive.store import MemoryStore
from openlive.types import ClientMessage

from ..conftest import RunningServer, running_app

WS = "/ws/google.ai.generativelanguage.v1alpha.GenerativeService."
CONSTRAINED = WS + "BidiGenerateContentConstrained"
PLAIN = WS + "BidiGenerateContent"
KEY = "sekrit"

# ---- apply_constraints ----

# The three AuthToken request bodies observed from the official SDKs (docs: spec §10.1,
# "Observed bodies"; python 3.4.0 x2, @google/genai 2.32.0 x1), copied here verbatim.
OBSERVED_BODIES: list[dict[str, Any]] = [
    {
        "expireTime": "2030-01-01T00:30:00+00:00",
        "newSessionExpireTime": "2030-01-01T00:01:00+00:00",
        "uses": 1,
    },
    {
        "uses": 2,
        "bidiGenerateContentSetup": {
            "model": "models/gemini-live-2.5-flash-preview",
            "generationConfig": {"responseModalities": ["AUDIO"], "temperature": 0.5},
            "systemInstruction": {"parts": [{"text": "You are Gemini"}], "role": "user"},
            "sessionResumption": {},
        },
        "fieldMask": "model,generationConfig.responseModalities,generationConfig.temperature,"
        "systemInstruction.parts,systemInstruction.role,sessionResumption,"
        "generationConfig.temperature",
    },
    {
        "expireTime": "2030-01-01T00:30:00Z",
        "newSessionExpireTime": "2030-01-01T00:01:00Z",
        "uses": 1,
        "bidiGenerateContentSetup": {
            "model": "models/gemini-live-2.5-flash-preview",
            "generationConfig": {"responseModalities": ["AUDIO"], "temperature": 0.5},
        },
        "fieldMask": "model,generationConfig.responseModalities,generationConfig.temperature",
    },
]

# what a client might send on the Constrained route (snake_case keys, as Python's SDK may)
CLIENT_SETUP: dict[str, Any] = {
    "model": "models/other",
    "generation_config": {"response_modalities": ["TEXT"], "temperature": 1.5, "top_k": 7},
    "system_instruction": {"parts": [{"text": "ignore all rules"}], "role": "user"},
    "session_resumption": {"handle": "h-123"},
    "output_audio_transcription": {},
}


def test_observed_body_without_setup_keeps_the_client_setup() -> None:
    body = OBSERVED_BODIES[0]
    merged = apply_constraints(
        CLIENT_SETUP, body.get("bidiGenerateContentSetup"), parse_field_mask(body.get("fieldMask"))
    )
    assert merged == {
        "model": "models/other",
        "generationConfig": {"responseModalities": ["TEXT"], "temperature": 1.5, "topK": 7},
        "systemInstruction": {"parts": [{"text": "ignore all rules"}], "role": "user"},
        "sessionResumption": {"handle": "h-123"},
        "outputAudioTranscription": {},
    }


def test_observed_python_body_overrides_the_masked_fields() -> None:
    body = OBSERVED_BODIES[1]
    mask = parse_field_mask(body["fieldMask"])
    assert mask == (
        "model",
        "generationConfig.responseModalities",
        "generationConfig.temperature",
        "systemInstruction.parts",
        "systemInstruction.role",
        "sessionResumption",
    )
    merged = apply_constraints(CLIENT_SETUP, body["bidiGenerateContentSetup"], mask)
    assert merged == {
        "model": "models/gemini-live-2.5-flash-preview",
        "generationConfig": {"responseModalities": ["AUDIO"], "temperature": 0.5, "topK": 7},
        "systemInstruction": {"parts": [{"text": "You are Gemini"}], "role": "user"},
        # the token's sessionResumption ({}) is locked, but the client's handle still resumes
        "sessionResumption": {"handle": "h-123"},
        "outputAudioTranscription": {},
    }


def test_observed_js_body_overrides_the_masked_fields() -> None:
    body = OBSERVED_BODIES[2]
    merged = apply_constraints(
        CLIENT_SETUP, body["bidiGenerateContentSetup"], parse_field_mask(body["fieldMask"])
    )
    assert merged["model"] == "models/gemini-live-2.5-flash-preview"
    assert merged["generationConfig"] == {
        "responseModalities": ["AUDIO"],
        "temperature": 0.5,
        "topK": 7,
    }
    assert merged["systemInstruction"]["parts"] == [{"text": "ignore all rules"}]


def test_no_field_mask_locks_the_whole_token_setup() -> None:
    token = OBSERVED_BODIES[2]["bidiGenerateContentSetup"]
    merged = apply_constraints(CLIENT_SETUP, token, None)
    assert merged == {
        "model": "models/gemini-live-2.5-flash-preview",
        "generationConfig": {"responseModalities": ["AUDIO"], "temperature": 0.5},
        "sessionResumption": {"handle": "h-123"},
    }


def test_masked_path_missing_from_the_token_is_locked_to_its_default() -> None:
    token = {"model": "models/m", "generationConfig": {"temperature": 0.2}}
    mask = parse_field_mask("generationConfig.temperature,generation_config.top_k,tools")
    client = {**CLIENT_SETUP, "tools": [{"functionDeclarations": [{"name": "f"}]}]}
    merged = apply_constraints(client, token, mask)
    assert merged["generationConfig"] == {"responseModalities": ["TEXT"], "temperature": 0.2}
    assert "tools" not in merged
    assert merged["model"] == "models/other"


def test_field_mask_parsing() -> None:
    assert parse_field_mask(None) is None
    assert parse_field_mask("") is None
    assert parse_field_mask(" model , ,generation_config.max_output_tokens") == (
        "model",
        "generationConfig.maxOutputTokens",
    )
    assert parse_field_mask(["systemInstruction"]) == ("systemInstruction",)
    with pytest.raises(ValueError, match="not a field of BidiGenerateContentSetup"):
        parse_field_mask("model,temperature")
    with pytest.raises(ValueError, match="empty field name"):
        parse_field_mask("generationConfig..topK")


# ---- the service, without a server ----


def route(method: Method = Method.LIVE_CONSTRAINED) -> Route:
    return Route(method, "v1alpha")


def setup_message(**setup: Any) -> ClientMessage:
    return ClientMessage.model_validate({"setup": {"model": "models/echo", **setup}})


async def mint(service: TokenService, **body: Any) -> str:
    reply = await service.create(
        Credential(KEY, "header:x-goog-api-key"), json.dumps(body).encode()
    )
    name: str = reply["name"]
    return name


async def test_grant_carries_the_creating_keys_principal_and_deadline() -> None:
    service = TokenService(MemoryStore(), KeyChecker([KEY]))
    name = await mint(service, uses=0)
    grant, _ = await service.authorize(
        Credential(name, "query:access_token"), route(), setup_message()
    )
    assert grant.principal == principal_of(KEY)
    assert grant.token == name
    assert grant.expires_at == pytest.approx(service.clock() + 30 * 60)


async def test_resumption_is_not_a_use_and_ignores_new_session_expiry() -> None:
    service = TokenService(MemoryStore(), KeyChecker([KEY]))
    name = await mint(service, uses=1)
    credential = Credential(name, "header:authorization")
    await service.authorize(credential, route(), setup_message())
    resuming = setup_message(sessionResumption={"handle": "h-1"})
    for _ in range(3):
        await service.authorize(credential, route(), resuming)
    with pytest.raises(PolicyViolation, match="used up"):
        await service.authorize(credential, route(), setup_message())
    start = time.time()
    service.clock = lambda: start + 120  # past newSessionExpireTime (60 s), before expireTime
    await service.authorize(credential, route(), resuming)
    with pytest.raises(PolicyViolation, match="newSessionExpireTime"):
        await service.authorize(credential, route(), setup_message())
    service.clock = lambda: start + 3600  # past expireTime: nothing goes
    with pytest.raises(Unauthenticated, match="expired"):
        await service.authorize(credential, route(), resuming)


async def test_tokens_only_on_the_constrained_route_and_keys_on_both() -> None:
    service = TokenService(MemoryStore(), KeyChecker([KEY]))
    name = await mint(service)
    with pytest.raises(PolicyViolation, match="BidiGenerateContentConstrained"):
        await service.authorize(Credential(name, "query:key"), route(Method.LIVE), setup_message())
    key = Credential(KEY, "query:key")
    for method in (Method.LIVE, Method.LIVE_CONSTRAINED):
        grant, _ = await service.authorize(key, route(method), setup_message())
        assert grant.principal == principal_of(KEY) and grant.token is None
    with pytest.raises(Unauthenticated, match="malformed"):
        await service.authorize(Credential("auth_tokens/x!", "q"), route(), setup_message())
    with pytest.raises(Unauthenticated, match="not valid"):
        await service.authorize(
            Credential("auth_tokens/" + "A" * 43, "q"), route(), setup_message()
        )


async def test_constraints_apply_to_the_first_message() -> None:
    service = TokenService(MemoryStore(), KeyChecker([KEY]))
    name = await mint(
        service,
        uses=1,
        bidiGenerateContentSetup={"generationConfig": {"temperature": 0.5}},
        fieldMask="generationConfig.temperature",
    )
    asked = setup_message(generationConfig={"temperature": 1.9, "topK": 3})
    _, message = await service.authorize(Credential(name, "q"), route(), asked)
    assert message.setup is not None and message.setup.generation_config is not None
    assert message.setup.generation_config.temperature == 0.5
    assert message.setup.generation_config.top_k == 3
    assert message.setup.model == "models/echo"


# ---- through the server ----


@pytest.fixture
async def keyed() -> AsyncIterator[RunningServer]:
    config = ServerConfig(
        port=0, tls_port=0, model="echo", echo_delay=0.001, api_keys=[KEY], token_rate=5
    )
    async with running_app(config) as server:
        yield server


async def create(
    server: RunningServer,
    body: Any = None,
    *,
    key: str | None = KEY,
    path: str = "/v1alpha/auth_tokens",
) -> httpx.Response:
    headers = {"x-goog-api-key": key} if key else {}
    async with httpx.AsyncClient() as http:
        return await http.post(server.http + path, json=body or {}, headers=headers)


async def token(server: RunningServer, **body: Any) -> str:
    response = await create(server, body)
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    return name


def setup(**fields: Any) -> str:
    return json.dumps(
        {
            "setup": {
                "model": "models/echo",
                "generationConfig": {"responseModalities": ["TEXT"]},
                **fields,
            }
        }
    )


async def closed_with(ws: Any) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            message = await ws.recv()
            if "setupComplete" not in message and "sessionResumptionUpdate" not in message:
                pytest.fail(f"expected a close, got {message!r}")
    rcvd = info.value.rcvd
    assert rcvd is not None
    return rcvd.code, rcvd.reason


async def turn(ws: Any, text: str) -> tuple[str, dict[str, Any]]:
    """Send a user turn; the reply's text and its usage metadata."""
    content = {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": True}
    await ws.send(json.dumps({"clientContent": content}))
    reply = ""
    while True:
        message = json.loads(await ws.recv())
        content = message.get("serverContent", {})
        for part in content.get("modelTurn", {}).get("parts", []):
            reply += part.get("text", "")
        if content.get("turnComplete"):
            return reply, message["usageMetadata"]


async def test_create_returns_an_auth_token(keyed: RunningServer) -> None:
    before = time.time()
    response = await create(keyed, {"uses": 3})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["name"].startswith("auth_tokens/") and len(body["name"]) > 40
    assert body["uses"] == 3
    expire = datetime.fromisoformat(body["expireTime"]).timestamp()
    new_session = datetime.fromisoformat(body["newSessionExpireTime"]).timestamp()
    assert expire == pytest.approx(before + 1800, abs=5)
    assert new_session == pytest.approx(before + 60, abs=5)
    again = await create(keyed)
    assert again.json()["name"] != body["name"] and again.json()["uses"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/v1alpha/auth_tokens",
        "/v1beta/auth_tokens",
        "/v1/auth_tokens",
        "//prefix//v1alpha/auth_tokens",
    ],
)
async def test_create_on_every_version_and_prefix(keyed: RunningServer, path: str) -> None:
    assert (await create(keyed, path=path)).status_code == 200


async def test_create_over_tls(keyed: RunningServer) -> None:
    assert keyed.https and keyed.app.tls_cert
    context = ssl.create_default_context(cafile=str(keyed.app.tls_cert))
    async with httpx.AsyncClient(verify=context) as http:
        response = await http.post(
            keyed.https + "/v1alpha/auth_tokens?key=" + KEY, json={"uses": 0}
        )
    assert response.status_code == 200 and response.json()["uses"] == 0


@pytest.mark.parametrize(
    ("key", "status", "needle"),
    [
        (None, 401, "API key required"),
        ("wrong", 403, "API key not valid"),
        ("auth_tokens/" + "A" * 43, 403, "ephemeral token cannot create tokens"),
    ],
)
async def test_create_needs_a_real_key(
    keyed: RunningServer, key: str | None, status: int, needle: str
) -> None:
    response = await create(keyed, key=key)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == status and needle in error["message"]
    assert error["status"] in ("UNAUTHENTICATED", "PERMISSION_DENIED")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"uses": -1}, "uses must be a whole number"),
        ({"uses": "x"}, "uses must be a whole number"),
        ({"expireTime": "tomorrow"}, "is not an RFC 3339 time"),
        ({"expireTime": "2001-01-01T00:00:00Z"}, "is in the past"),
        ({"expireTime": "2999-01-01T00:00:00Z"}, "less than 20 hours ahead"),
        ({"newSessionExpireTime": "2999-01-01T00:00:00Z"}, "less than 20 hours ahead"),
        ({"bidiGenerateContentSetup": {"model": 5}}, "invalid bidiGenerateContentSetup.model"),
        (
            {"bidiGenerateContentSetup": {"model": "m", "generationConfig": {"temperature": 9}}},
            "generationConfig.temperature must be in [0, 2]",
        ),
        ({"bidiGenerateContentSetup": []}, "must be a BidiGenerateContentSetup"),
        ({"fieldMask": "model,temperature"}, "'temperature' is not a field"),
        (
            {"bidiGenerateContentSetup": {"generationConfig": {"temperature": 1}}},
            "model is required when there is no fieldMask",
        ),
    ],
)
async def test_create_refuses_bad_bodies(keyed: RunningServer, body: Any, needle: str) -> None:
    response = await create(keyed, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and needle in error["message"]


async def test_create_refuses_bodies_it_cannot_read(keyed: RunningServer) -> None:
    async with httpx.AsyncClient() as http:
        url = keyed.http + "/v1alpha/auth_tokens?key=" + KEY
        response = await http.post(url, content=b"{nope")
        assert response.status_code == 400 and "not valid JSON" in response.text
        response = await http.post(url, content=b"[1]")
        assert response.status_code == 400 and "JSON object" in response.text
        response = await http.post(url, content=b"x" * ((1 << 20) + 1))
        assert response.status_code == 413

        async def chunks() -> AsyncIterator[bytes]:
            yield b"{}"

        response = await http.post(url, content=chunks())
        assert response.status_code == 411


async def test_expect_100_continue(keyed: RunningServer) -> None:
    host, port = keyed.http.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps({"uses": 4}).encode()
    writer.write(
        b"POST /v1alpha/auth_tokens HTTP/1.1\r\nHost: x\r\nx-goog-api-key: "
        + KEY.encode()
        + b"\r\nExpect: 100-continue\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    await writer.drain()
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK") and b'"uses": 4' in answer


async def test_cors_preflight_and_other_methods(keyed: RunningServer) -> None:
    async with httpx.AsyncClient() as http:
        preflight = await http.options(
            keyed.http + "/v1alpha/auth_tokens",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-goog-api-key",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert preflight.headers["access-control-allow-headers"] == "content-type,x-goog-api-key"
        got = await http.get(keyed.http + "/v1alpha/auth_tokens")
        assert got.status_code == 405 and got.headers["allow"] == "POST, OPTIONS"
        assert (await http.post(keyed.http + "/healthz", json={})).status_code == 404
        assert (await http.get(keyed.http + "/healthz")).status_code == 200


async def test_rate_limit_per_key(keyed: RunningServer) -> None:
    now = time.time()
    keyed.app.tokens.clock = lambda: now  # one minute window for the whole test
    for _ in range(5):
        assert (await create(keyed)).status_code == 200
    refused = await create(keyed)
    assert refused.status_code == 429
    assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_token_session_and_uses(keyed: RunningServer) -> None:
    name = await token(keyed, uses=2)
    for query in ("?access_token=" + name, ""):
        headers = {} if query else {"Authorization": "Token " + name, "x-goog-api-key": name}
        async with connect(keyed.ws + CONSTRAINED + query, additional_headers=headers) as ws:
            await ws.send(setup())
            assert "setupComplete" in await ws.recv()
            assert (await turn(ws, "hello there"))[0] == "echo: hello there"
    async with connect(keyed.ws + CONSTRAINED + "?access_token=" + name) as ws:
        await ws.send(setup())
        code, reason = await closed_with(ws)
    assert code == 1008 and "used up" in reason and "mint a new one" in reason


async def test_token_on_the_plain_route_is_refused(keyed: RunningServer) -> None:
    name = await token(keyed)
    async with connect(keyed.ws + PLAIN + "?key=" + name) as ws:
        await ws.send(setup())
        code, reason = await closed_with(ws)
    assert code == 1008 and "BidiGenerateContentConstrained" in reason


async def test_api_key_on_the_constrained_route(keyed: RunningServer) -> None:
    async with connect(keyed.ws + CONSTRAINED + "?key=" + KEY) as ws:
        await ws.send(setup())
        assert "setupComplete" in await ws.recv()
    async with connect(keyed.ws + CONSTRAINED + "?key=nope") as ws:
        await ws.send(setup())
        code, reason = await closed_with(ws)
    assert code == 1008 and "API key not valid" in reason


async def test_unknown_and_malformed_tokens(keyed: RunningServer) -> None:
    for value, needle in [("auth_tokens/" + "Q" * 43, "not valid"), ("auth_tokens/!", "malformed")]:
        async with connect(keyed.ws + CONSTRAINED + "?access_token=" + value) as ws:
            await ws.send(setup())
            code, reason = await closed_with(ws)
        assert code == 1008 and needle in reason


async def test_new_session_expiry(keyed: RunningServer) -> None:
    name = await token(keyed, uses=0)
    keyed.app.tokens.clock = lambda: time.time() + 61
    async with connect(keyed.ws + CONSTRAINED + "?access_token=" + name) as ws:
        await ws.send(setup())
        code, reason = await closed_with(ws)
    assert code == 1008 and "newSessionExpireTime" in reason
    keyed.app.tokens.clock = lambda: time.time() + 1801
    async with connect(keyed.ws + CONSTRAINED + "?access_token=" + name) as ws:
        await ws.send(setup())
        code, reason = await closed_with(ws)
    assert code == 1008 and "expired" in reason


async def test_session_closes_at_expire_time(keyed: RunningServer) -> None:
    soon = datetime.fromtimestamp(time.time() + 1.5, UTC).isoformat()
    name = await token(keyed, expireTime=soon)
    async with connect(keyed.ws + CONSTRAINED + "?access_token=" + name) as ws:
        await ws.send(setup())
        assert "setupComplete" in await ws.recv()
        assert (await turn(ws, "still here"))[0] == "echo: still here"
        started = time.monotonic()
        code, reason = await asyncio.wait_for(closed_with(ws), 10)
    assert code == 1008 and reason == "ephemeral token expired"
    assert time.monotonic() - started < 3


async def test_masked_fields_override_the_client_setup(keyed: RunningServer) -> None:
    name = await token(
        keyed,
        bidiGenerateContentSetup={"generationConfig": {"maxOutputTokens": 2}},
        fieldMask="generationConfig.maxOutputTokens,systemInstruction",
    )
    async with connect(keyed.ws + CONSTRAINED + "?access_token=" + name) as ws:
        await ws.send(
            setup(
                generationConfig={"responseModalities": ["TEXT"], "maxOutputTokens": 50},
                systemInstruction={"parts": [{"text": "one two three"}]},
            )
        )
        assert "setupComplete" in await ws.recv()
        text, usage = await turn(ws, "alpha beta gamma delta")
    # the echo engine cuts its reply to maxOutputTokens words and counts the system
    # instruction's words in the prompt: the token's 2 wins, the locked instruction is gone
    assert text == "echo: alpha"
    assert usage["promptTokenCount"] == 4


async def test_whole_setup_locked_without_field_mask(keyed: RunningServer) -> None:
    name = await token(
        keyed,
        bidiGenerateContentSetup={
            "model": "models/echo",
            "generationConfig": {"responseModalities": ["TEXT"]},
            "systemInstruction": {"parts": [{"text": "a b c d e"}]},
        },
    )
    async with connect(keyed.ws + CONSTRAINED + "?access_token=" + name) as ws:
        await ws.send(
            json.dumps(
                {
                    "setup": {
                        "model": "models/not-served",
                        "generation_config": {"max_output_tokens": 1},
                        "system_instruction": {"parts": [{"text": "x"}]},
                    }
                }
            )
        )
        assert "setupComplete" in await ws.recv()
        text, usage = await turn(ws, "one two")
    assert text == "echo: one two"
    assert usage["promptTokenCount"] == 2 + 5


async def resume(url: str, handle: str | None, **headers: str) -> tuple[str, str]:
    """Set up (resuming ``handle`` if given); the session id and the handle to resume it."""
    async with connect(url, additional_headers=headers) as ws:
        await ws.send(setup(sessionResumption={"handle": handle} if handle else {}))
        session_id = json.loads(await ws.recv())["setupComplete"]["sessionId"]
        while True:
            update = json.loads(await ws.recv()).get("sessionResumptionUpdate")
            if update and update.get("resumable") and update.get("newHandle"):
                return session_id, update["newHandle"]


async def test_resuming_with_a_token_is_not_a_use_and_the_key_can_resume(
    keyed: RunningServer,
) -> None:
    name = await token(keyed, uses=1)
    url = keyed.ws + CONSTRAINED + "?access_token=" + name
    session_id, handle = await resume(url, None)
    for _ in range(2):  # resuming does not count: the single use is still the first session
        resumed, handle = await resume(url, handle)
        assert resumed == session_id
    # the session belongs to the key that minted the token: the key resumes it too
    resumed, handle = await resume(keyed.ws + PLAIN, handle, **{"x-goog-api-key": KEY})
    assert resumed == session_id
    async with connect(url) as ws:
        await ws.send(setup())
        code, reason = await closed_with(ws)
    assert code == 1008 and "used up" in reason


async def test_nodes_sharing_redis_share_tokens(redis_url: str) -> None:
    def config() -> ServerConfig:
        return ServerConfig(
            port=0, no_tls=True, model="echo", api_keys=[KEY], store=redis_url, token_rate=2
        )

    async with running_app(config()) as one, running_app(config()) as two:
        now = time.time()
        one.app.tokens.clock = two.app.tokens.clock = lambda: now  # one rate-limit window
        name = await token(one, uses=1)
        async with connect(two.ws + CONSTRAINED + "?access_token=" + name) as ws:
            await ws.send(setup())
            assert "setupComplete" in await ws.recv()
        async with connect(one.ws + CONSTRAINED + "?access_token=" + name) as ws:
            await ws.send(setup())
            code, reason = await closed_with(ws)
        assert code == 1008 and "used up" in reason
        # the rate limit is counted in the store too: 2 per minute per key, over both nodes
        assert (await create(two)).status_code == 200
        assert (await create(one)).status_code == 429
