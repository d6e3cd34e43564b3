"""Ephemeral tokens with the unmodified google-genai SDK (3.4.0): mint over REST (wss server's
https port), then a Live session on the Constrained route with the token as the key."""

from __future__ import annotations

import datetime

import pytest

from ..helpers import ServerProcess

genai = pytest.importorskip("google.genai")
from google.genai import errors, types  # noqa: E402

pytestmark = [
    pytest.mark.conformance,
    pytest.mark.filterwarnings("ignore:The SDK.s .*experimental"),
]
MODEL = "gemini-live-2.5-flash-preview"


@pytest.fixture
def options(echo_serve: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """v1alpha (what the SDKs want for tokens) at the TLS port, trusting its certificate
    (SSL_CERT_FILE: REST and Live alike)."""
    assert echo_serve.https_url and echo_serve.cert
    monkeypatch.setenv("SSL_CERT_FILE", echo_serve.cert)
    return {"api_version": "v1alpha", "base_url": echo_serve.https_url}


async def text_turn(session: object, text: str) -> str:
    await session.send_client_content(  # type: ignore[attr-defined]
        turns=types.Content(role="user", parts=[types.Part(text=text)])
    )
    return "".join([m.text or "" async for m in session.receive()])  # type: ignore[attr-defined]


async def test_create_token_and_connect_with_it(options: dict[str, str]) -> None:
    client = genai.Client(api_key="test-key", http_options=options)
    now = datetime.datetime.now(tz=datetime.UTC)
    token = await client.aio.auth_tokens.create(
        config=types.CreateAuthTokenConfig(
            uses=1,
            expire_time=now + datetime.timedelta(minutes=5),
            new_session_expire_time=now + datetime.timedelta(minutes=1),
            live_connect_constraints=types.LiveConnectConstraints(
                model=MODEL,
                config=types.LiveConnectConfig(response_modalities=["TEXT"], max_output_tokens=2),
            ),
            lock_additional_fields=[],  # lock the fields set above, nothing more
        )
    )
    assert token.name and token.name.startswith("auth_tokens/")

    page = genai.Client(api_key=token.name, http_options=options)
    # the client asks for more, the token's maxOutputTokens (2 words from the echo engine) wins
    config = {"response_modalities": ["TEXT"], "max_output_tokens": 50}
    async with page.aio.live.connect(model=MODEL, config=config) as session:
        assert await text_turn(session, "Hello world") == "echo: Hello"

    with pytest.raises(errors.APIError) as info:
        async with page.aio.live.connect(model=MODEL, config=config) as session:
            await text_turn(session, "again")
    assert info.value.code == 1008 and "used up" in str(info.value)


async def test_token_with_the_whole_setup_locked(options: dict[str, str]) -> None:
    client = genai.Client(api_key="test-key", http_options=options)
    token = client.auth_tokens.create(
        config={
            "uses": 0,
            "live_connect_constraints": {
                "model": MODEL,
                "config": {"response_modalities": ["TEXT"], "system_instruction": "a b c"},
            },
        }
    )
    page = genai.Client(api_key=token.name, http_options=options)
    for _ in range(2):  # uses=0: unlimited
        async with page.aio.live.connect(
            model="some-other-model", config={"system_instruction": "ignored"}
        ) as session:
            await session.send_client_content(
                turns=types.Content(role="user", parts=[types.Part(text="one two")])
            )
            messages = [m async for m in session.receive()]
        assert "".join(m.text or "" for m in messages) == "echo: one two"
        assert messages[-1].usage_metadata.prompt_token_count == 2 + 3
