"""Helpers shared by the benchmarks: starting servers, percentiles, CPU time of a process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Proc:
    proc: subprocess.Popen[str]
    url: str
    https: str | None
    cert: str | None

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)

    def cpu(self) -> float:
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def rss_mb(self) -> float:
        return float(self.ps.memory_info().rss) / 2**20

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_openlive(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Proc:
    log = Path(tempfile.mkstemp(prefix="openlive-bench-", suffix=".log")[1])
    cmd = [
        sys.executable,
        "-m",
        "openlive.cli.main",
        "serve",
        "--port",
        "0",
        "--tls-port",
        "0",
        "--log-level",
        "warning",
        *args,
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    pattern = re.compile(r"serving the Live API on (http://\S+?)(?:, (https://\S+))?$", re.M)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        if m := pattern.search(text):
            cert = re.search(r"TLS certificate (\S+)", text)
            server = Proc(proc, m.group(1), m.group(2), cert.group(1) if cert else None)
            wait_ready(server.url)
            return server
        if proc.poll() is not None:
            raise RuntimeError(text)
        time.sleep(0.05)
    raise RuntimeError("server did not start")


def wait_ready(url: str, timeout: float = 180) -> None:
    """Poll /healthz until every model and the voice stack have loaded (so background loading
    does not compete with what is measured)."""
    import json
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
            health = json.load(response)
        models = [m for m in health["models"] if "ready" in m]
        voice = health.get("voice", {})
        if all(m["ready"] for m in models) and not voice.get("loading"):
            return
        time.sleep(0.2)
    raise RuntimeError("server did not finish loading")


def start_script(script: Path, *args: str) -> Proc:
    """A Python script that prints ``PORT <n>`` once it listens."""
    proc = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    port = int(line.split()[1])
    return Proc(proc, f"http://127.0.0.1:{port}", None, None)


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def loop_lag(url: str) -> str:
    """The server's event-loop lag so far (``/healthz``), as one line."""
    import json
    import urllib.request

    with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
        lag = json.load(response)["loop_lag_ms"]
    return (
        f"  event loop lag (server, 50 ms probe): worst {lag['worst']:.0f} ms, "
        f"recent p50 {lag['p50_recent']:.1f} ms, p99 {lag['p99_recent']:.1f} ms"
    )
