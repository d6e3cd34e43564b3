"""The web console's files and settings over HTTP (the page itself runs in
test_console_browser.py): served at ``/`` on both listeners, with a content security policy,
and the path the page takes to a session: a single-use token, then the Constrained route."""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openlive.console import asset
from openlive.server import ServerConfig

from ..conftest import RunningServer, running_app

CONSTRAINED = "/ws/google.ai.generativelanguage.v1alpha.GenerativeService."
TEXT = {"responseModalities": ["TEXT"]}
PAGE_FILES = ("index.html", "console.js", "live.js", "audio.js", "worklets.js", "music.js")


@pytest.fixture
async def served() -> AsyncIterator[RunningServer]:
    config = ServerConfig(port=0, tls_port=0, model="echo", echo_delay=0.001)
    async with running_app(config) as server:
        yield server


@pytest.fixture
async def keyed() -> AsyncIterator[RunningServer]:
    config = ServerConfig(port=0, tls_port=0, model="echo", echo_delay=0.001, api_keys=["k1"])
    async with running_app(config) as server:
        yield server


async def test_page_on_both_listeners(served: RunningServer) -> None:
    assert served.https is not None
    tls = ssl.create_default_context(cafile=str(served.app.tls_cert))
    for base, verify in ((served.http, True), (served.https, tls)):
        async with httpx.AsyncClient(verify=verify) as http:
            page = await http.get(base + "/", headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert "<title>openlive console</title>" in page.text
            policy = page.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "connect-src 'self' ws: wss:" in policy
            # every file the page loads is served, with its type
            for name in re.findall(r'/console/([\w.]+)"', page.text):
                got = await http.get(f"{base}/console/{name}")
                assert got.status_code == 200, name
            script = await http.get(base + "/console/live.js")
            assert script.headers["content-type"].startswith("text/javascript")


async def test_api_clients_still_get_json_at_root(served: RunningServer) -> None:
    async with httpx.AsyncClient() as http:
        info = await http.get(served.http + "/", headers={"Accept": "application/json"})
        assert info.json()["name"] == "openlive" and info.json()["console"] == "/"
        missing = await http.get(served.http + "/console/../app.py")
        assert missing.status_code == 404
        unknown = await http.get(served.http + "/console/nope.js")
        assert unknown.status_code == 404 and "nope.js" in unknown.json()["error"]["message"]


async def test_console_info_lists_the_choices(served: RunningServer, keyed: RunningServer) -> None:
    async with httpx.AsyncClient() as http:
        info = (await http.get(served.http + "/console/info")).json()
        assert info["models"][0].startswith("gemini-") and "echo" in info["models"]
        assert "Puck" in info["voices"] and "lyria-realtime-exp" in info["musicModels"]
        assert info["apiKeyRequired"] is False
        assert (await http.get(keyed.http + "/console/info")).json()["apiKeyRequired"] is True


async def mint(server: RunningServer, key: str | None = None) -> httpx.Response:
    """What the page's mintToken() sends."""
    now = datetime.now(UTC)
    body = {
        "uses": 1,
        "newSessionExpireTime": (now + timedelta(minutes=1)).isoformat(),
        "expireTime": (now + timedelta(hours=12)).isoformat(),
    }
    headers = {"x-goog-api-key": key} if key else {}
    async with httpx.AsyncClient() as http:
        return await http.post(server.http + "/v1alpha/auth_tokens", json=body, headers=headers)


async def talk(server: RunningServer, method: str, token: str) -> str:
    url = f"{server.ws}{CONSTRAINED}{method}?access_token={token}"
    async with connect(url) as ws:
        setup = {"model": "models/gemini-live-2.5-flash-preview", "generationConfig": TEXT}
        await ws.send(json.dumps({"setup": setup}))
        assert "setupComplete" in json.loads(await ws.recv())
        turn = {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True}
        await ws.send(json.dumps({"clientContent": turn}))
        text = ""
        while True:
            message = json.loads(await ws.recv())
            content = message.get("serverContent", {})
            for part in content.get("modelTurn", {}).get("parts", []):
                text += part.get("text", "")
            if content.get("turnComplete"):
                return text


async def test_the_pages_token_is_single_use(served: RunningServer) -> None:
    minted = await mint(served)
    assert minted.status_code == 200, minted.text
    token = minted.json()["name"]
    assert minted.json()["uses"] == 1
    assert "hi" in await talk(served, "BidiGenerateContentConstrained", token)
    with pytest.raises(ConnectionClosed) as closed:
        await talk(served, "BidiGenerateContentConstrained", token)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "used up" in closed.value.rcvd.reason


async def test_a_keyed_server_mints_only_for_its_key(keyed: RunningServer) -> None:
    assert (await mint(keyed)).status_code == 401
    assert (await mint(keyed, "wrong")).status_code == 403
    minted = await mint(keyed, "k1")
    assert minted.status_code == 200
    assert "hi" in await talk(keyed, "BidiGenerateContentConstrained", minted.json()["name"])


async def test_music_takes_the_pages_token(served: RunningServer) -> None:
    token = (await mint(served)).json()["name"]
    url = f"{served.ws}{CONSTRAINED}BidiGenerateMusic?access_token={token}"
    async with connect(url) as ws:
        await ws.send(json.dumps({"setup": {"model": "models/lyria-realtime-exp"}}))
        assert "setupComplete" in json.loads(await ws.recv())


def test_static_files_ship_in_the_package() -> None:
    for name in PAGE_FILES:
        found = asset(name)
        assert found is not None and found[0], name
    assert asset("../__init__.py") is None
    assert asset("") is None


async def test_a_token_locked_to_a_live_setup_cannot_start_music(served: RunningServer) -> None:
    body = {
        "uses": 1,
        "bidiGenerateContentSetup": {"model": "models/gemini-live-2.5-flash-preview"},
    }
    async with httpx.AsyncClient() as http:
        minted = await http.post(served.http + "/v1alpha/auth_tokens", json=body)
    assert minted.status_code == 200, minted.text
    url = f"{served.ws}{CONSTRAINED}BidiGenerateMusic?access_token={minted.json()['name']}"
    with pytest.raises(ConnectionClosed) as closed:
        async with connect(url) as ws:
            await ws.send(json.dumps({"setup": {"model": "models/lyria-realtime-exp"}}))
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "locked to a Live setup" in closed.value.rcvd.reason


async def test_a_music_session_cannot_pass_for_a_resumption(served: RunningServer) -> None:
    """A resumption handle lets a Live session skip the token's use count (it is not a new
    session); music has no resumption, so a handle there does not skip it."""
    token = (await mint(served)).json()["name"]
    url = f"{served.ws}{CONSTRAINED}BidiGenerateMusic?access_token={token}"
    setup = {"model": "models/lyria-realtime-exp", "sessionResumption": {"handle": "x"}}
    for attempt in range(2):
        try:
            async with connect(url) as ws:
                await ws.send(json.dumps({"setup": setup}))
                assert "setupComplete" in json.loads(await ws.recv())
                assert attempt == 0, "a used-up token started a second music session"
        except ConnectionClosed as closed:
            assert attempt == 1
            assert closed.rcvd is not None and closed.rcvd.code == 1008
            assert "used up" in closed.rcvd.reason
