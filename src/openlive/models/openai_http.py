"""What every OpenAI-compatible remote backend shares: the base URL and an HTTP client."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import uuid
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HTTP_FAILURES", "Poster", "base_v1", "client_headers"]

HTTP_FAILURES = (OSError, http.client.HTTPException)
"""What a failed request raises (refused, reset, timed out, not HTTP): callers say which
backend failed."""


def base_v1(url: str) -> str:
    """``http://host:8000`` or ``http://host:8000/v1`` → ``http://host:8000/v1``."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def client_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class Poster:
    """POSTs to one server, from any thread, over a kept-alive connection per thread.

    The standard library's ``http.client`` rather than httpx: a recognition request costs
    ~0.27 ms of CPU here against ~1.05 ms (2 s of audio, local server), and a server with
    many listening sessions asks for ~80 recognitions a second (benchmarks/RESULTS.md).
    A kept-alive connection the server has closed in the meantime is retried once on a new one.
    """

    def __init__(self, base_url: str, api_key: str | None, timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{base_url!r} is not an http:// or https:// URL")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = client_headers(api_key)
        self._timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()

    def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        return self.post(path, json.dumps(body).encode(), "application/json")

    def post_form(
        self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
    ) -> tuple[int, bytes]:
        """``multipart/form-data``: ``files`` maps a field to (file name, content, type)."""
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, (filename, content, content_type) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            )
            parts.append(content)
            parts.append(b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.post(path, b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def post(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        """The status and body of one POST; raises one of ``HTTP_FAILURES``."""
        headers = {**self._headers, "Content-Type": content_type}
        for attempt in (0, 1):
            connection, reused = self._connection()
            try:
                connection.request("POST", self._prefix + path, body, headers)
                response = connection.getresponse()
                data = response.read()
            except (ConnectionResetError, BrokenPipeError):  # RemoteDisconnected is the first
                self._drop(connection)
                if reused and attempt == 0:
                    continue  # the server closed an idle kept-alive connection: once more
                raise
            except BaseException:
                self._drop(connection)
                raise
            if response.will_close:
                self._drop(connection)
            return response.status, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        if self._https:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        self._local.connection = connection
        with self._lock:
            self._open.add(connection)
        return connection, False

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None
        with self._lock:
            self._open.discard(connection)
