"""Session resumption and goAway through the unmodified official SDKs (google-genai 3.4.0 over
wss, @google/genai 2.32.0 over ws) against ``openlive serve``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..helpers import ServerProcess
from .test_google_genai import MODEL, sdk_client, turn_text, user
from .test_js_genai import run as run_live

genai = pytest.importorskip("google.genai")
from google.genai import errors, types  # noqa: E402

pytestmark = pytest.mark.conformance
JS = Path(__file__).parent / "js"


def config(handle: str | None = None) -> types.LiveConnectConfig:
    return types.LiveConnectConfig(
        response_modalities=["TEXT"],
        session_resumption=types.SessionResumptionConfig(handle=handle),
    )


async def test_python_sdk_resumes_a_session(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=config()) as session:
            session_id = session.session_id
            await session.send_client_content(turns=user("my name is Ada"), turn_complete=True)
            text, _ = await turn_text(session)
            assert text == "echo: my name is Ada"
            handle = None
            async for message in session.receive():  # the update after turnComplete
                update = message.session_resumption_update
                if update and update.resumable and update.new_handle:
                    handle = update.new_handle
                    break
        assert handle
        async with client.aio.live.connect(model=MODEL, config=config(handle)) as session:
            assert session.session_id == session_id
            await session.send_client_content(turns=user("[[history]]"), turn_complete=True)
            text, _ = await turn_text(session)
        assert text == "echo: history: my name is Ada"
        with pytest.raises(errors.APIError) as info:
            async with client.aio.live.connect(model=MODEL, config=config(handle)) as session:
                await session.send_client_content(turns=user("again"), turn_complete=True)
                await turn_text(session)
        assert info.value.code == 1008  # spent: a newer handle was issued


async def test_python_sdk_sees_go_away(echo_serve: ServerProcess) -> None:
    with sdk_client(echo_serve) as client:
        async with client.aio.live.connect(model=MODEL, config=config()) as session:
            await session.send_client_content(
                turns=user("[[fault goaway 1]] hi"), turn_complete=True
            )
            go_away = None
            async for message in session.receive():
                if message.go_away:
                    go_away = message.go_away
                    break
    assert go_away is not None and go_away.time_left is not None
    assert go_away.time_left == "1s"


def run(server: ServerProcess, scenario: str) -> dict[str, Any]:
    proc = subprocess.run(
        ["node", str(JS / "resume.mjs"), server.http_url, scenario],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_js_sdk_resumes_a_session(echo_serve: ServerProcess) -> None:
    run_live(echo_serve, "basic")  # node and the SDK are there (fails with a clear message)
    out = run(echo_serve, "resume")
    assert out["said"] == "echo: my name is Ada"
    assert out["memory"] == "echo: history: my name is Ada"
    assert out["sameSession"] is True
    assert out["handles"][0] != out["handles"][1]


def test_js_sdk_go_away_then_resume(echo_serve: ServerProcess) -> None:
    out = run(echo_serve, "goaway")
    assert out["goAway"] == "1s"
    assert out["closed"]["code"] == 1000
    assert out["memory"] == "echo: history: [[fault goaway 1]] hello"


def test_js_sdk_bad_handle(echo_serve: ServerProcess) -> None:
    out = run(echo_serve, "badHandle")
    assert out["closed"]["code"] == 1008
    assert "not valid" in out["closed"]["reason"]
