"""Shared test helpers: paths, captures, a server subprocess."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OBSERVED = ROOT / "tests" / "data" / "observed"
"""Captured traffic of the official SDKs (see the README there for where it came from)."""


def capture_records(name: str) -> list[dict[str, Any]]:
    with (OBSERVED / name).open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


def client_frames(name: str) -> Iterator[dict[str, Any]]:
    for record in capture_records(name):
        if record["event"] in ("first_message", "message"):
            yield record["data"]


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    http_url: str
    https_url: str | None
    cert: str | None
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worst_loop_lag(self) -> float:
        """The longest the server's event loop has been blocked, in seconds (``/healthz``)."""
        if self.proc.poll() is not None:
            return 0.0
        with urllib.request.urlopen(self.http_url + "/healthz", timeout=10) as response:
            return float(json.load(response)["loop_lag_ms"]["worst"]) / 1000


def start_server(
    tmp: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60.0
) -> ServerProcess:
    """Run ``openlive serve`` on free ports and wait until it prints where it listens."""
    log = tmp / f"server-{time.monotonic_ns()}.log"
    full_env = {**os.environ, **(env or {})}
    cmd = [
        sys.executable,
        "-m",
        "openlive.cli.main",
        "serve",
        "--port",
        "0",
        "--tls-port",
        "0",
        *args,
    ]
    fh = log.open("w")
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, text=True, env=full_env)
    deadline = time.monotonic() + timeout
    pattern = re.compile(r"serving the Live API on (http://\S+?)(?:, (https://\S+))?$", re.M)
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if m := pattern.search(text):
            cert = re.search(r"TLS certificate (\S+)", text)
            return ServerProcess(proc, m.group(1), m.group(2), cert.group(1) if cert else None, log)
        if proc.poll() is not None:
            raise RuntimeError(f"openlive serve exited {proc.returncode}:\n{text}")
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"openlive serve did not start in {timeout} s:\n{log.read_text()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
