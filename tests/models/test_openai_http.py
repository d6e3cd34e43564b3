"""The remote backends' HTTP poster against a stub HTTP server written for these tests
(``StubHttpServer``: it records what it receives and can drop a kept-alive connection the
way a server closes an idle one). Real OpenAI-compatible speech servers are in
``test_remote_voice.py``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from openlive.models.openai_http import HTTP_FAILURES, Poster


class StubHttpServer(ThreadingHTTPServer):
    """A stub: answers every POST with its JSON ``reply``; ``close_after`` makes it hang up on
    a kept-alive connection after answering (without saying so in the response)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.peers: list[tuple[str, int]] = []
        self.close_after = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StubHttpServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers.items()), body))
        self.server.peers.append(self.client_address)
        reply = json.dumps({"text": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        if self.server.close_after:
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[StubHttpServer]:
    server = StubHttpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_posts_a_form_the_server_can_parse(stub: StubHttpServer) -> None:
    poster = Poster(stub.url, "sk-test", 5.0)
    status, body = poster.post_form(
        "/audio/transcriptions",
        {"model": "whisper-1", "language": "en"},
        {"file": ("speech.wav", b"RIFF\x00\x01binary", "audio/wav")},
    )
    assert (status, json.loads(body)) == (200, {"text": "ok"})
    path, headers, raw = stub.received[0]
    assert path == "/v1/audio/transcriptions"
    assert headers["Authorization"] == "Bearer sk-test"
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode() + raw
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    assert parts["model"].get_payload(decode=True) == b"whisper-1"
    assert parts["language"].get_payload(decode=True) == b"en"
    assert parts["file"].get_filename() == "speech.wav"
    assert parts["file"].get_content_type() == "audio/wav"
    assert parts["file"].get_payload(decode=True) == b"RIFF\x00\x01binary"
    poster.close()


def test_keeps_one_connection_alive_per_thread(stub: StubHttpServer) -> None:
    poster = Poster(stub.url, None, 5.0)
    for _ in range(3):
        assert poster.post_json("/audio/speech", {"input": "hi"})[0] == 200
    assert len(set(stub.peers)) == 1
    assert "Authorization" not in stub.received[0][1]
    assert json.loads(stub.received[0][2]) == {"input": "hi"}
    other = threading.Thread(target=poster.post_json, args=("/audio/speech", {"input": "x"}))
    other.start()
    other.join()
    assert len(set(stub.peers)) == 2  # a thread of its own, a connection of its own
    poster.close()


def test_a_connection_the_server_dropped_is_replaced(stub: StubHttpServer) -> None:
    poster = Poster(stub.url, None, 5.0)
    stub.close_after = True
    for _ in range(3):  # each request after the first finds its kept-alive connection closed
        assert poster.post_json("/audio/speech", {"input": "hi"})[0] == 200
    assert len(stub.received) == 3 and len(set(stub.peers)) == 3
    poster.close()


def test_a_server_that_is_not_there_raises_an_http_failure() -> None:
    poster = Poster("http://127.0.0.1:9/v1", None, 2.0)
    with pytest.raises(HTTP_FAILURES):
        poster.post_json("/audio/speech", {})


def test_only_http_urls() -> None:
    with pytest.raises(ValueError, match="not an http"):
        Poster("ftp://example.com/v1", None, 1.0)
