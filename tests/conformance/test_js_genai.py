"""The unmodified @google/genai JS SDK (pinned 2.32.0, Node) against ``openlive serve`` over ws."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..helpers import ServerProcess

pytestmark = pytest.mark.conformance
JS = Path(__file__).parent / "js"


def run(server: ServerProcess, scenario: str, *extra: str) -> dict[str, Any]:
    if shutil.which("node") is None or not (JS / "node_modules" / "@google" / "genai").is_dir():
        pytest.fail(
            "node and tests/conformance/js/node_modules are needed: run scripts/install.sh --dev"
        )
    proc = subprocess.run(
        ["node", str(JS / "live.mjs"), server.http_url, scenario, *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_sdk_version_is_the_captured_one() -> None:
    package = json.loads((JS / "node_modules" / "@google" / "genai" / "package.json").read_text())
    assert package["version"] == "2.32.0"


def test_basic_streaming(echo_serve: ServerProcess) -> None:
    r = run(echo_serve, "basic")
    assert r["sessionId"]
    assert r["text"] == "echo: Hello world"
    assert r["chunks"] > 1
    assert r["generationComplete"] is True
    assert r["usage"]["responseTokenCount"] == 3
    assert r["usage"]["totalTokenCount"] == r["usage"]["promptTokenCount"] + 3


def test_multi_turn(echo_serve: ServerProcess) -> None:
    r = run(echo_serve, "multiturn")
    assert r["texts"] == ["echo: first question here", "echo: second"]
    assert r["prompt2"] == 3 + 4 + 1


def test_prefill(echo_serve: ServerProcess) -> None:
    r = run(echo_serve, "prefill")
    assert r == {"text": "echo: remember me", "prompt": 8}


def test_realtime_text(echo_serve: ServerProcess) -> None:
    assert run(echo_serve, "realtime_text") == {"text": "echo: hello realtime"}


def test_interruption(echo_serve: ServerProcess) -> None:
    r = run(echo_serve, "interrupt")
    assert r["firstTail"] == [{"interrupted": True}, {"turnComplete": True}]
    assert r["firstGenerationComplete"] is False
    assert r["secondText"] == "echo: new question"


def test_unknown_model(echo_serve: ServerProcess) -> None:
    r = run(echo_serve, "unknown_model")
    assert r["closed"] == {
        "code": 1008,
        "reason": "models/foo is not found for API version v1beta, or is not supported for "
        "bidiGenerateContent.",
    }


def test_bad_input(echo_serve: ServerProcess) -> None:
    r = run(echo_serve, "bad_input")
    assert r["closed"]["code"] == 1007 and "audio/ogg" in r["closed"]["reason"]
    assert r["otherText"] == "echo: still up"


def test_audio_session(echo_serve: ServerProcess, question_wav: Path) -> None:
    r = run(echo_serve, "audio", str(question_wav))
    assert "capital of france" in r["input"].lower()
    assert "echo" in r["output"].lower() and "france" in r["output"].lower()
    assert r["mimeTypes"] == ["audio/pcm;rate=24000"]
    assert r["audioBytes"] > 24000 * 2 * 0.5
    assert r["usage"]["totalTokenCount"] > 0


def test_function_calling_story(echo_serve: ServerProcess) -> None:
    r = run(echo_serve, "tools")
    (call,) = r["calls"]
    assert call["name"] == "get_weather" and call["args"] == {"city": "Tokyo"} and call["id"]
    assert r["text"] == 'echo: get_weather returned {"output": "sunny"}'


def test_ephemeral_token(echo_serve: ServerProcess) -> None:
    # authTokens.create over REST, then live.connect with the token: the token locks
    # maxOutputTokens=2 (the echo engine's reply is cut to 2 words), and allows one session
    r = run(echo_serve, "tokens")
    assert r["name"].startswith("auth_tokens/")
    assert r["text"] == "echo: Hello"
    assert r["secondClosed"]["code"] == 1008 and "used up" in r["secondClosed"]["reason"]
