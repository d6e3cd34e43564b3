"""A stub OpenAI-compatible HTTP server that misbehaves on purpose (answers garbage, or never
answers), to check that openlive closes the affected session cleanly. It is a stub, not a real
engine: the real engines are tested in tests/models/ against real servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["misbehaving_stub"]


@contextmanager
def misbehaving_stub(mode: str) -> Iterator[str]:
    """``mode``: ``garbage`` (200 with a body that is not what the API promises) or ``hang``
    (never answers). Yields the ``/v1`` base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if mode == "hang":
                time.sleep(30)
                return
            if self.path.endswith("/chat/completions"):
                body = b"data: {this is not json\n\n"
                content_type = "text/event-stream"
            else:  # transcriptions and speech: JSON without the fields, audio that is no WAV
                body = b'{"unexpected": true}'
                content_type = "application/json"
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
