"""REST requests with a body (``POST``) and CORS preflights (``OPTIONS``) on the WebSocket ports.

The server runs on websockets, whose HTTP parser reads WebSocket handshakes: a GET with no
body. The REST endpoint that mints ephemeral tokens (``POST /v1alpha/auth_tokens``) must be
served on the same ports, so :class:`HttpServerConnection` (passed to ``serve`` as
``create_connection``) looks at the bytes of a request before websockets' parser does:

* a GET (every WebSocket handshake, ``/healthz``...) goes through untouched, from its first line on;
* any other method: the head is read in full (at most :data:`MAX_HEAD` bytes), then the body
  of ``Content-Length`` bytes (at most :data:`MAX_BODY`; answers ``100 Continue`` when asked).
  websockets is then given the same head as a GET without its body headers, and the
  connection keeps the real method, the body, and what is wrong with the request if anything
  (chunked bodies, bodies too large): ``process_request`` answers it from those.

This uses only the asyncio protocol interface (``data_received``) of websockets' connection,
not its parser's internals, and works alike with every websockets version the project allows.
websockets closes the connection after any response that is not a handshake (no keep-alive),
so a REST response carries ``Connection: close``.

:class:`RestRoutes` answers those requests: ``POST`` and ``OPTIONS`` on
``/{v1alpha,v1beta,v1}/auth_tokens`` (under any prefix, repeated slashes collapsed), 405 for
other methods there, 404 for other paths with a method other than GET.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from ..errors import RequestRefused
from ..protocol import extract_credential, normalize_path
from .tokens import TokenService

__all__ = [
    "CORS_HEADERS",
    "MAX_BODY",
    "MAX_HEAD",
    "HttpServerConnection",
    "RestRoutes",
    "error_body",
    "json_response",
]

log = logging.getLogger("openlive.http")

MAX_BODY = 1 << 20
"""Largest request body read (1 MiB); a bigger one is answered 413."""
MAX_HEAD = 64 * 1024
"""Largest request head (request line and headers) read for a request that is not a GET."""

_CRLF = b"\r\n"
_BODY_HEADERS = (b"content-length", b"transfer-encoding", b"expect")
_TOKENS_PATH = re.compile(r"^/(?:.*/)?(v1alpha|v1beta|v1)/auth_tokens/?$")

CORS_HEADERS: tuple[tuple[str, str], ...] = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, OPTIONS"),
    ("Access-Control-Expose-Headers", "Retry-After"),
    ("Access-Control-Max-Age", "600"),
)
"""Sent with every answer on the tokens endpoint: a page on any origin may mint tokens. No
cookie or ambient credential is involved (the API key travels in a header or the query), so
this gives a page nothing it could not do with the key it already holds."""
_DEFAULT_ALLOWED_HEADERS = "content-type, x-goog-api-key, x-goog-api-client, authorization"


class HttpServerConnection(ServerConnection):
    """A websockets server connection that also reads request bodies (see the module doc)."""

    http_method: str
    """The request's method (websockets' own request always says GET for these)."""
    http_body: bytes
    """The request's body (empty for a GET)."""
    http_problem: tuple[int, str] | None
    """An HTTP status and message when the request cannot be served as read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http_method = "GET"
        self.http_body = b""
        self.http_problem = None
        self._pending: bytearray | None = bytearray()
        """Bytes held back from websockets' parser; None once they flow straight through."""
        self._head: bytes | None = None
        """The head given to websockets for a request that is not a GET, once read."""
        self._body_length = 0
        self._answering = False
        """A request that is not a GET was handed over: what follows it is not read."""

    def data_received(self, data: bytes) -> None:
        if self._answering:
            return  # after a REST request's body: nothing more is read
        if self._pending is None:
            super().data_received(data)
            return
        self._pending += data
        ready = self._sift()
        if ready is not None:
            self._pending = None
            super().data_received(ready)

    def eof_received(self) -> bool | None:  # type: ignore[override]
        if self._pending is not None and self._head is not None:
            self.http_problem = (400, "the request body ended before Content-Length bytes")
            self._pending = None
            self._answering = True
            super().data_received(self._head)
        if self._answering and not self.protocol.eof_sent:
            return True  # the client is done sending before the answer: keep the transport open
        if self._pending is not None:
            # the request ended early: let websockets' parser see what came and refuse it
            pending, self._pending = bytes(self._pending), None
            if pending:
                super().data_received(pending)
        super().eof_received()
        return None

    def _sift(self) -> bytes | None:
        """What to hand websockets' parser now, or None to wait for more bytes."""
        buffer = self._pending
        assert buffer is not None
        if self._head is None:
            first = buffer.find(b"\n")
            if first < 0:
                return bytes(buffer) if len(buffer) > MAX_HEAD else None
            if buffer.startswith(b"GET "):
                return bytes(buffer)  # a handshake or a plain GET: websockets' own business
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return bytes(buffer) if len(buffer) > MAX_HEAD else None
            head = bytes(buffer[: end + 2])
            del buffer[: end + 4]
            rewritten = self._read_head(head)
            if rewritten is None:
                return head + _CRLF + bytes(buffer)  # not HTTP as we know it: websockets refuses
            self._head = rewritten
            if self.http_problem is not None or self._body_length == 0:
                self._answering = True
                return self._head
        if len(buffer) < self._body_length:
            return None
        self.http_body = bytes(buffer[: self._body_length])
        self._answering = True
        return self._head

    def _read_head(self, head: bytes) -> bytes | None:
        """Note the method and body length of a request head; return the head websockets'
        parser can take (GET, no body headers), or None if the request line is malformed."""
        lines = head.split(_CRLF)[:-1]
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not re.fullmatch(rb"[A-Z]{1,20}", parts[0]):
            return None
        method, target, version = parts
        self.http_method = method.decode("ascii")
        lengths: list[bytes] = []
        chunked = expect = False
        kept = [b"GET " + target + b" " + version]
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                lengths.append(value.strip())
            elif key == b"transfer-encoding":
                chunked = True
            elif key == b"expect":
                expect = value.strip().lower() == b"100-continue"
            if key not in _BODY_HEADERS:
                kept.append(line)
        if chunked:
            self.http_problem = (411, "send the body with a Content-Length (chunked is not read)")
        elif len(set(lengths)) > 1 or not all(v.isdigit() and len(v) < 19 for v in lengths):
            self.http_problem = (400, "invalid Content-Length")
        elif lengths and int(lengths[0]) > MAX_BODY:
            self.http_problem = (413, f"the request body is larger than {MAX_BODY} bytes")
        elif lengths:
            self._body_length = int(lengths[0])
            if expect and self._body_length and self.transport is not None:
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return _CRLF.join(kept) + _CRLF + _CRLF


def error_body(status: int, status_name: str, message: str) -> dict[str, Any]:
    """A Google-style error: ``{"error": {"code", "message", "status"}}``."""
    return {"error": {"code": status, "message": message, "status": status_name}}


def json_response(status: int, body: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """A JSON response that ends the connection (websockets does not keep it alive)."""
    payload = json.dumps(body, indent=1).encode()
    fields = Headers(
        [
            ("Content-Type", "application/json; charset=UTF-8"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
            *headers,
        ]
    )
    return Response(status, HTTPStatus(status).phrase, fields, payload)


_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    411: "INVALID_ARGUMENT",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class RestRoutes:
    """The REST requests that websockets' GET-only handling cannot answer."""

    def __init__(self, tokens: TokenService) -> None:
        self.tokens = tokens

    def route(self, ws: ServerConnection, request: Request) -> Awaitable[Response] | None:
        """The answer to ``request`` if it is ours (any method but GET; anything on the tokens
        path); None for a GET elsewhere, which the caller serves."""
        method = getattr(ws, "http_method", "GET")
        tokens = _TOKENS_PATH.match(normalize_path(request.path)) is not None
        if method == "GET" and not tokens:
            return None
        return self._answer(ws, request, method, tokens)

    async def _answer(
        self, ws: ServerConnection, request: Request, method: str, tokens: bool
    ) -> Response:
        problem: tuple[int, str] | None = getattr(ws, "http_problem", None)
        cors = CORS_HEADERS if tokens else ()
        if problem is not None:
            status, message = problem
            return json_response(status, error_body(status, _STATUS_NAMES[status], message), cors)
        if not tokens:
            path = normalize_path(request.path)
            return json_response(404, error_body(404, "NOT_FOUND", f"no route for {method} {path}"))
        if method == "OPTIONS":
            asked = request.headers.get("Access-Control-Request-Headers", "")
            allowed = asked.strip() or _DEFAULT_ALLOWED_HEADERS
            headers = (*cors, ("Access-Control-Allow-Headers", allowed), ("Allow", "POST, OPTIONS"))
            fields = Headers([("Cache-Control", "no-store"), ("Connection", "close"), *headers])
            return Response(204, "No Content", fields, b"")
        if method != "POST":
            message = f"{method} is not allowed here; create a token with POST"
            body = error_body(405, "METHOD_NOT_ALLOWED", message)
            return json_response(405, body, (*cors, ("Allow", "POST, OPTIONS")))
        credential = extract_credential(request.path, dict(request.headers.raw_items()))
        body_bytes: bytes = getattr(ws, "http_body", b"")
        try:
            token = await self.tokens.create(credential, body_bytes)
        except RequestRefused as exc:
            extra: tuple[tuple[str, str], ...] = ()
            if exc.status == 429:
                extra = (("Retry-After", str(max(1, int(self.tokens.retry_after())))),)
            body = error_body(exc.status, exc.status_name, exc.message)
            return json_response(exc.status, body, (*cors, *extra))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("creating an ephemeral token failed")
            message = "the token store could not be reached; try again"
            return json_response(503, error_body(503, "UNAVAILABLE", message), cors)
        return json_response(200, token, cors)
