"""Log records carry the id of the session they were logged for; ``log_format = json``."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openlive.runtime import TaskOwner
from openlive.server.config import load_config
from openlive.server.logs import SESSION_ID, JsonFormatter, SessionFilter, log_handler

from ..conftest import RunningServer
from ..helpers import start_server

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
SETUP = {"setup": {"model": "models/echo", "generationConfig": {"responseModalities": ["TEXT"]}}}
TURN = {
    "clientContent": {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], "turnComplete": True}
}


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """JSON lines of every ``openlive`` record (INFO and up) while the test runs."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    logger = logging.getLogger("openlive")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def one_session(url: str) -> str:
    """A text session with one turn; returns its id (from setupComplete)."""
    async with connect(url + PATH) as ws:
        await ws.send(json.dumps(SETUP))
        session_id = json.loads(await ws.recv())["setupComplete"]["sessionId"]
        await ws.send(json.dumps(TURN))
        while not json.loads(await ws.recv()).get("serverContent", {}).get("turnComplete"):
            pass
    return str(session_id)


async def test_every_session_line_names_its_session(
    echo_server: RunningServer, json_log: io.StringIO
) -> None:
    first = await one_session(echo_server.ws)
    second = await one_session(echo_server.ws)
    async with connect(echo_server.ws + PATH) as ws:  # refused: the id is known there too
        await ws.send(json.dumps(TURN))
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    for _ in range(200):  # sessions end in the background once their client has left
        lines = records(json_log)
        if sum("ended" in r["message"] for r in lines) >= 2 and any(
            "refused" in r["message"] for r in lines
        ):
            break
        await asyncio.sleep(0.05)
    assert first != second
    for row in lines:
        assert set(row) >= {"time", "level", "logger", "session", "message"}
    for session in (first, second):
        mine = [r for r in lines if r["session"] == session]
        assert any(r["message"] == f"session {session}: ended" for r in mine)
        assert any("model echo on echo engine" in r["message"] for r in mine)
        # every line that speaks of the session carries its id as a field
        assert all(r["session"] == session for r in lines if f"session {session}:" in r["message"])
    refused = [r for r in lines if "refused 1007" in r["message"]]
    assert (
        len(refused) == 1
        and refused[0]["session"]
        and refused[0]["session"]
        not in (
            first,
            second,
        )
    )


async def test_tasks_of_a_session_inherit_its_id() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("openlive.test.logging")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = log_handler("json", stream)
    logger.addHandler(handler)
    failures: list[BaseException] = []

    async def failed(stage: str, exc: BaseException) -> None:
        failures.append(exc)

    async def stage() -> None:
        logger.info("from a stage")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")

    async def serve() -> None:
        SESSION_ID.set("s-123")
        owner = TaskOwner(failed)
        await owner.spawn(stage(), "stage")
        logger.info("from the connection")

    try:
        await asyncio.create_task(serve())
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    rows = {r["message"]: r for r in records(stream)}
    assert rows["from a stage"]["session"] == "s-123"
    assert rows["from the connection"]["session"] == "s-123"
    assert rows["outside"]["session"] is None
    assert "ValueError: boom" in rows["it failed"]["exc_info"]
    assert rows["it failed"]["level"] == "ERROR" and not failures


def test_filter_and_text_format() -> None:
    record = logging.LogRecord("openlive.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    token = SESSION_ID.set("abc")
    try:
        assert SessionFilter().filter(record)
    finally:
        SESSION_ID.reset(token)
    assert record.session == "abc"  # type: ignore[attr-defined]
    row = json.loads(JsonFormatter().format(record))
    assert row["session"] == "abc" and row["message"] == "hello you"
    assert row["logger"] == "openlive.x" and row["time"].endswith("+00:00")
    text = io.StringIO()
    handler = log_handler("text", text)
    handler.handle(record)
    assert text.getvalue().rstrip().endswith("INFO openlive.x: hello you")
    with pytest.raises(ValueError):
        log_handler("xml")


def test_log_format_setting() -> None:
    assert load_config(env={}).log_format == "text"
    assert load_config(env={"OPENLIVE_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(Exception, match="log_format"):
        load_config(env={"OPENLIVE_LOG_FORMAT": "xml"})


async def test_serve_writes_json_lines(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--model", "echo", "--no-tls", "--log-format", "json")
    try:
        session = await one_session(server.http_url.replace("http://", "ws://"))
        for _ in range(200):
            if f"session {session}: ended" in server.output():
                break
            await asyncio.sleep(0.05)
    finally:
        server.stop()
    rows = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    mine = [r for r in rows if r["session"] == session]
    assert any(r["message"] == f"session {session}: ended" for r in mine)
    assert all(r["logger"].startswith(("openlive", "websockets")) for r in rows)
