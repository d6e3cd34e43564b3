"""A plain ``pip install openlive`` (no extras) in a fresh virtual environment: the SDK imports
without numpy and chats with a server, the CLI's ``chat``, ``models`` and ``--version`` work,
and the commands that need an extra say which one (an extra that exists).

The server is ``openlive serve --model echo`` from the test environment; only the client side
runs in the fresh environment. Installing takes pip a minute or less with its wheel cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import ROOT, ServerProcess, start_server

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def clean_env() -> dict[str, str]:
    """This environment minus what would leak the test venv or a server into the fresh one."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONUSERBASE")
    return {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith("OPENLIVE_") and not k.startswith("PYTEST")
    }


def run(
    *cmd: str | Path, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
        check=False,
    )


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding ``pip install <a copy of this source tree>``; its bin folder."""
    tmp = tmp_path_factory.mktemp("plain-install")
    tree = tmp / "openlive-src"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, tree / name)
    shutil.copytree(
        ROOT / "src",
        tree / "src",
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "*.pyc"),
    )
    made = run(sys.executable, "-m", "venv", tmp / "venv")
    assert made.returncode == 0, made.stderr
    bin_dir = tmp / "venv" / "bin"
    installed = run(
        bin_dir / "python",
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        tree,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return bin_dir


@pytest.fixture(scope="module")
def echo_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("echo-serve"), "--model", "echo", "--no-tls")
    yield server
    server.stop()


def test_plain_install_has_no_numpy(venv: Path) -> None:
    probe = run(
        venv / "python",
        "-c",
        "import importlib.util as u; print([m for m in ('numpy', 'soxr', 'onnxruntime', "
        "'llama_cpp', 'faster_whisper') if u.find_spec(m)])",
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"


def test_sdk_imports_without_numpy(venv: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        import openlive
        from openlive import Client, LiveConnectionClosed, Session
        from openlive.client import AudioCollector, pcm_chunks, send_audio
        from openlive.types import LiveConnectConfig
        import openlive.cli.main, openlive.cli.chat, openlive.cli.talk
        import openlive.audio, openlive.weights
        assert openlive.audio.SPEECH_RATE == 16000
        heavy = [m for m in ("numpy", "soxr", "onnxruntime") if m in sys.modules]
        assert not heavy, heavy
        try:
            list(pcm_chunks(b"\\0\\0" * 1600))
        except ModuleNotFoundError as exc:
            print(exc)
        print(openlive.__version__)
        """
    )
    out = run(venv / "python", "-c", script)
    assert out.returncode == 0, out.stderr
    hint, version = out.stdout.strip().splitlines()
    assert "pip install 'openlive[audio]'" in hint and "audio" in EXTRAS
    ours = run(sys.executable, "-c", "import openlive; print(openlive.__version__)")
    assert version == ours.stdout.strip()


def test_sdk_chats_with_a_server(venv: Path, echo_serve: ServerProcess) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio
        from openlive import Client

        async def main() -> None:
            client = Client(base_url={echo_serve.http_url!r})
            config = {{"response_modalities": ["TEXT"], "system_instruction": "Be brief."}}
            model = "gemini-live-2.5-flash-preview"
            async with client.aio.live.connect(model=model, config=config) as s:
                await s.send_client_content(turns="hello from a plain install")
                print("".join([m.text async for m in s.receive() if m.text]))

        asyncio.run(main())
        client = Client(base_url={echo_serve.http_url!r})
        config = {{"response_modalities": ["TEXT"]}}
        with client.live.connect(model="gemini-2.0-flash", config=config) as s:
            s.send_client_content(turns="and synchronously")
            print("".join(m.text for m in s.receive() if m.text))
        """
    )
    out = run(venv / "python", "-c", script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "echo: hello from a plain install",
        "echo: and synchronously",
    ]


def test_cli_chat_models_version(venv: Path, echo_serve: ServerProcess) -> None:
    url = echo_serve.http_url
    chat = run(venv / "openlive", "chat", "--url", url, stdin="first line\n\nsecond line\n/quit\n")
    assert chat.returncode == 0, chat.stderr
    assert "model> echo: first line" in chat.stdout
    assert "model> echo: second line" in chat.stdout
    assert "connected to" in chat.stderr
    models = run(venv / "openlive", "models", "--url", url)
    assert models.returncode == 0, models.stderr
    assert "engine=echo" in models.stdout
    version = run(venv / "openlive", "--version")
    assert version.returncode == 0 and version.stdout.startswith("openlive ")


def test_commands_needing_an_extra_name_one_that_exists(venv: Path, tmp_path: Path) -> None:
    serve = run(venv / "openlive", "serve", "--model", "echo", "--port", "0", "--no-tls")
    assert serve.returncode == 2
    assert "pip install 'openlive[embedded]'" in serve.stderr and "embedded" in EXTRAS
    wav = tmp_path / "q.wav"
    wav.write_bytes(b"")
    talk = run(venv / "openlive", "talk", "--input", wav, "--url", "http://127.0.0.1:9")
    assert talk.returncode == 2
    assert "pip install 'openlive[audio]'" in talk.stderr and "audio" in EXTRAS
