"""Session resumption, goAway, connection lifetime, drain, faults and limits, through a real
server in-process (echo engine) over real sockets."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from openlive.server import ServerConfig

from ..conftest import RunningServer, running_app

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def setup_msg(resumption: dict[str, Any] | None = None, **extra: Any) -> str:
    body: dict[str, Any] = {
        "model": "models/gemini-2.0-flash-exp",
        "generationConfig": {"responseModalities": ["TEXT"]},
        **extra,
    }
    if resumption is not None:
        body["sessionResumption"] = resumption
    return json.dumps({"setup": body})


def user(text: str) -> str:
    turns = [{"role": "user", "parts": [{"text": text}]}]
    return json.dumps({"clientContent": {"turns": turns, "turnComplete": True}})


async def recv(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))


async def turn(ws: ClientConnection, text: str) -> tuple[str, list[dict[str, Any]]]:
    """Send a user turn; the reply text and every message up to the update after it."""
    await ws.send(user(text))
    reply, seen = "", []
    while True:
        msg = await recv(ws)
        seen.append(msg)
        for part in msg.get("serverContent", {}).get("modelTurn", {}).get("parts", []):
            reply += part.get("text", "")
        update = msg.get("sessionResumptionUpdate")
        if update and update.get("resumable"):
            return reply, seen


async def closed(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(1000):
            await asyncio.wait_for(ws.recv(), 20)
    rcvd = info.value.rcvd
    return (rcvd.code, rcvd.reason) if rcvd is not None else (1006, "")


async def opened(
    server: RunningServer, resumption: dict[str, Any], key: str = "k"
) -> tuple[ClientConnection, str, str]:
    """Connect and set up; the session id and the first handle."""
    ws = await connect(f"{server.ws}{PATH}?key={key}")
    await ws.send(setup_msg(resumption))
    first = await recv(ws)
    session_id = first["setupComplete"]["sessionId"]
    update = (await recv(ws))["sessionResumptionUpdate"]
    assert update["resumable"] is True and len(update["newHandle"]) >= 32
    return ws, session_id, update["newHandle"]


def latest_handle(messages: list[dict[str, Any]]) -> str:
    handles = [
        m["sessionResumptionUpdate"]["newHandle"]
        for m in messages
        if m.get("sessionResumptionUpdate", {}).get("newHandle")
    ]
    return handles[-1]


async def test_handles_and_resume_same_node(echo_server: RunningServer) -> None:
    ws, session_id, _ = await opened(echo_server, {})
    reply, seen = await turn(ws, "my name is Ada")
    assert reply == "echo: my name is Ada"
    kinds = [next(iter(m)) for m in seen]
    # not resumable while the reply is written, then a new handle after turnComplete
    updates = [m["sessionResumptionUpdate"] for m in seen if "sessionResumptionUpdate" in m]
    assert updates[0] == {"resumable": False}
    assert kinds.index("sessionResumptionUpdate") < kinds.index("serverContent")
    handle = latest_handle(seen)
    await ws.close()

    ws2 = await connect(f"{echo_server.ws}{PATH}?key=k")
    await ws2.send(setup_msg({"handle": handle}))
    assert (await recv(ws2))["setupComplete"]["sessionId"] == session_id
    assert (await recv(ws2))["sessionResumptionUpdate"]["resumable"] is True
    reply, _ = await turn(ws2, "[[history]]")
    assert reply == "echo: history: my name is Ada"
    await ws2.close()


async def test_spent_unknown_and_foreign_handles_close_1008() -> None:
    config = ServerConfig(
        port=0, tls_port=0, model="echo", no_tls=True, api_keys=["k", "other"], handle_grace=0
    )
    async with running_app(config) as server:
        ws, _, first_handle = await opened(server, {})
        _, seen = await turn(ws, "hello")
        newer = latest_handle(seen)
        assert newer != first_handle
        for handle, key, words in (
            (first_handle, "k", "newer handle replaced it"),
            ("not-a-handle", "k", "not valid"),
            (newer, "other", "another API key"),
        ):
            probe = await connect(f"{server.ws}{PATH}?key={key}")
            await probe.send(setup_msg({"handle": handle}))
            code, reason = await closed(probe)
            assert code == 1008 and words in reason, (code, reason)
        await ws.close()


async def test_a_replaced_handle_works_for_a_grace_period(echo_server: RunningServer) -> None:
    """An update lost in flight (the node or the connection died just then) does not lose the
    session: the handle before it still works for ``handle_grace`` seconds, until the newer
    one is used."""
    ws, _, first = await opened(echo_server, {})
    _, seen = await turn(ws, "remember me")
    newer = latest_handle(seen)
    await ws.close()
    ws = await connect(f"{echo_server.ws}{PATH}?key=k")
    await ws.send(setup_msg({"handle": first}))  # the update with `newer` never arrived
    assert "setupComplete" in await recv(ws)
    assert (await recv(ws))["sessionResumptionUpdate"]["resumable"] is True
    reply, _ = await turn(ws, "[[history]]")
    assert reply == "echo: history: remember me"
    await ws.close()
    # the newest handle was issued on that connection; `first` is two handles old now
    probe = await connect(f"{echo_server.ws}{PATH}?key=k")
    await probe.send(setup_msg({"handle": newer}))
    code, reason = await closed(probe)
    assert code == 1008 and "not valid" in reason


async def test_resuming_closes_the_old_connection(echo_server: RunningServer) -> None:
    ws, _, handle = await opened(echo_server, {})
    ws2 = await connect(f"{echo_server.ws}{PATH}?key=k")
    await ws2.send(setup_msg({"handle": handle}))
    assert "setupComplete" in await recv(ws2)
    assert (await recv(ws2))["sessionResumptionUpdate"]["resumable"] is True
    code, reason = await closed(ws)
    assert code == 1000 and "resumed on another connection" in reason
    reply, _ = await turn(ws2, "still here")
    assert reply == "echo: still here"
    await ws2.close()


async def test_transparent_reports_the_last_consumed_index(echo_server: RunningServer) -> None:
    ws, _, _ = await opened(echo_server, {"transparent": True})
    _, seen = await turn(ws, "one")  # message 0
    last = [m for m in seen if "sessionResumptionUpdate" in m][-1]["sessionResumptionUpdate"]
    assert last["lastConsumedClientMessageIndex"] == "0"
    _, seen = await turn(ws, "two")  # message 1
    last = [m for m in seen if "sessionResumptionUpdate" in m][-1]["sessionResumptionUpdate"]
    assert last["lastConsumedClientMessageIndex"] == "1"
    await ws.close()


async def test_no_updates_without_session_resumption(echo_server: RunningServer) -> None:
    async with connect(f"{echo_server.ws}{PATH}") as ws:
        await ws.send(setup_msg())
        assert "setupComplete" in await recv(ws)
        await ws.send(user("hi"))
        while True:
            msg = await recv(ws)
            assert "sessionResumptionUpdate" not in msg
            if msg.get("serverContent", {}).get("turnComplete"):
                break


async def test_connection_lifetime_sends_goaway_then_closes() -> None:
    config = ServerConfig(
        port=0,
        tls_port=0,
        model="echo",
        no_tls=True,
        max_connection_seconds=1.0,
        goaway_notice_seconds=0.4,
    )
    async with running_app(config) as server:
        ws, _, handle = await opened(server, {})
        started = time.monotonic()
        msg = await recv(ws)
        assert msg == {"goAway": {"timeLeft": "0.4s"}}
        code, reason = await closed(ws)
        assert code == 1000 and "lifetime" in reason
        assert time.monotonic() - started >= 0.3
        ws2 = await connect(f"{server.ws}{PATH}?key=k")
        await ws2.send(setup_msg({"handle": handle}))
        assert "setupComplete" in await recv(ws2)
        await ws2.close()


async def test_drain_lets_the_turn_finish_then_closes_1001() -> None:
    config = ServerConfig(port=0, tls_port=0, model="echo", no_tls=True, drain_seconds=20)
    async with running_app(config) as server:
        ws, _, _ = await opened(server, {})
        await ws.send(user("[[slow]] a slow reply"))
        assert (await recv(ws))["sessionResumptionUpdate"] == {"resumable": False}
        draining = asyncio.create_task(server.app.drain())
        seen = []
        with pytest.raises(ConnectionClosed) as info:
            while True:
                seen.append(await recv(ws))
        await draining
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        assert "resume with your latest handle" in info.value.rcvd.reason
        kinds = [next(iter(m)) for m in seen]
        assert kinds.count("goAway") == 1  # queued behind what the reply already sent
        assert seen[kinds.index("goAway")]["goAway"]["timeLeft"] == "20s"
        text = "".join(
            p.get("text", "")
            for m in seen
            for p in m.get("serverContent", {}).get("modelTurn", {}).get("parts", [])
        )
        assert text == "echo: [[slow]] a slow reply"  # the turn finished
        assert seen[-1]["sessionResumptionUpdate"]["resumable"] is True
        # new handshakes are refused while draining
        with pytest.raises(Exception, match="503"):
            await connect(f"{server.ws}{PATH}")


@pytest.mark.parametrize(
    ("directive", "code"), [("[[fault close 1011]]", 1011), ("[[fault drop]]", 1006)]
)
async def test_fault_directives_close_or_drop(
    echo_server: RunningServer, directive: str, code: int
) -> None:
    async with connect(f"{echo_server.ws}{PATH}") as ws:
        await ws.send(setup_msg())
        await recv(ws)
        await ws.send(user(f"{directive} hello"))
        got, reason = await closed(ws)
        assert got == code
        if code == 1011:
            assert reason == "injected fault: close 1011"


async def test_fault_goaway_and_stall(echo_server: RunningServer) -> None:
    async with connect(f"{echo_server.ws}{PATH}") as ws:
        await ws.send(setup_msg())
        await recv(ws)
        await ws.send(user("[[fault stall 0.5]] abc"))
        started = time.monotonic()
        while not (await recv(ws)).get("serverContent", {}).get("turnComplete"):
            pass
        assert time.monotonic() - started >= 0.45
        await ws.send(user("[[fault goaway 0.3]] bye"))
        seen = []
        code, reason = 0, ""
        try:
            while True:
                seen.append(await recv(ws))
        except ConnectionClosed as exc:
            assert exc.rcvd is not None
            code, reason = exc.rcvd.code, exc.rcvd.reason
        assert {"goAway": {"timeLeft": "0.3s"}} in seen
        assert code == 1000 and "goAway" in reason


async def test_fault_plan_setting_applies_to_every_session() -> None:
    config = ServerConfig(port=0, tls_port=0, model="echo", no_tls=True, faults="close_after=0.2")
    async with running_app(config) as server, connect(f"{server.ws}{PATH}") as ws:
        await ws.send(setup_msg())
        await recv(ws)
        assert await closed(ws) == (1011, "injected fault: close 1011")


async def test_idle_timeout_and_per_key_limit() -> None:
    config = ServerConfig(
        port=0, tls_port=0, model="echo", no_tls=True, idle_timeout=0.5, max_sessions_per_key=1
    )
    async with running_app(config) as server:
        ws = await connect(f"{server.ws}{PATH}?key=a")
        await ws.send(setup_msg())
        await recv(ws)
        second = await connect(f"{server.ws}{PATH}?key=a")
        await second.send(setup_msg())
        code, reason = await closed(second)
        assert code == 1011 and "per-key limit" in reason
        other = await connect(f"{server.ws}{PATH}?key=b")  # another key is not limited
        await other.send(setup_msg())
        assert "setupComplete" in await recv(other)
        code, reason = await closed(ws)
        assert code == 1000 and "idle" in reason
        await other.close()


async def test_a_pending_function_call_is_answered_after_resuming(
    echo_server: RunningServer,
) -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}},
                }
            ]
        }
    ]
    ws = await connect(f"{echo_server.ws}{PATH}?key=k")
    await ws.send(setup_msg({}, tools=tools))
    await recv(ws)
    await recv(ws)
    await ws.send(user('[[call get_weather {"city": "Paris"}]]'))
    call_id, handle = None, None
    while handle is None:
        msg = await recv(ws)
        if "toolCall" in msg:
            call_id = msg["toolCall"]["functionCalls"][0]["id"]
        update = msg.get("sessionResumptionUpdate", {})
        if update.get("resumable") and call_id:
            handle = update["newHandle"]  # resumable while the turn waits for the answer
    await ws.close()

    ws2 = await connect(f"{echo_server.ws}{PATH}?key=k")
    await ws2.send(setup_msg({"handle": handle}))
    assert "setupComplete" in await recv(ws2)
    response = {
        "functionResponses": [{"id": call_id, "name": "get_weather", "response": {"temp": 21}}]
    }
    await ws2.send(json.dumps({"toolResponse": response}))
    text = ""
    while True:
        msg = await recv(ws2)
        for part in msg.get("serverContent", {}).get("modelTurn", {}).get("parts", []):
            text += part.get("text", "")
        if msg.get("serverContent", {}).get("turnComplete"):
            break
    assert text == 'echo: get_weather returned {"temp": 21}'
    await ws2.close()


async def test_session_lifetime_spans_its_connections() -> None:
    config = ServerConfig(port=0, tls_port=0, model="echo", no_tls=True, max_session_seconds=1.0)
    async with running_app(config) as server:
        ws, _, handle = await opened(server, {})
        goaway = await recv(ws)
        assert goaway == {"goAway": {"timeLeft": "0.5s"}}  # notice: at most half the time left
        code, reason = await closed(ws)
        assert code == 1000 and "lifetime" in reason
        probe = await connect(f"{server.ws}{PATH}?key=k")
        await probe.send(setup_msg({"handle": handle}))
        code, reason = await closed(probe)
        assert code == 1008 and "lifetime" in reason
