"""Reconnecting sessions (``connect(..., reconnect=...)``) against a real in-process server
with the echo engine: goAway, drops, closes, drains and lifetimes end connections; the SDK
resumes with the latest handle, sends again what the server had not consumed, and the
application's ``receive()`` loop goes on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect

from openlive import Client, LiveConnectionClosed
from openlive.client import AsyncSession, Reconnect, ReconnectFailed, ReconnectInfo
from openlive.runtime.session import SessionRuntime
from openlive.server import ServerConfig
from openlive.types import ServerMessage

from ..conftest import RunningServer, running_app

MODEL = "gemini-2.0-flash-exp"
CONFIG = {"response_modalities": ["TEXT"]}
FAST = Reconnect(backoff=0.05, max_backoff=0.2)
PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def echo_config(**extra: Any) -> ServerConfig:
    settings: dict[str, Any] = {"echo_delay": 0.03, "max_sessions": 4, **extra}
    return ServerConfig(port=0, tls_port=0, model="echo", no_tls=True, **settings)


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    async with running_app(echo_config()) as running:
        yield running


async def runtime_of(server: RunningServer, session: AsyncSession) -> SessionRuntime:
    """The server-side runtime now serving ``session``."""
    for _ in range(200):
        for runtime in list(server.app.runtimes):
            serving = not runtime.closing and not runtime.ended
            if runtime.session_id == session.session_id and serving:
                return runtime
        await asyncio.sleep(0.01)
    raise AssertionError("no runtime serves the session")


async def reply_to(session: AsyncSession) -> tuple[str, list[ServerMessage]]:
    reply, seen = "", []
    async for message in session.receive():
        seen.append(message)
        reply += message.text or ""
    return reply, seen


async def ask(session: AsyncSession, text: str) -> str:
    await session.send_client_content(turns=text)
    reply, _ = await asyncio.wait_for(reply_to(session), 20)
    return reply


async def ask_final(session: AsyncSession, text: str) -> str:
    """The reply, without what came before a cut (``interrupted``) if the turn was cut."""
    await session.send_client_content(turns=text)
    reply = ""
    async for message in session.receive():
        if message.server_content and message.server_content.interrupted:
            reply = ""
        reply += message.text or ""
    return reply


def interrupted(seen: list[ServerMessage]) -> int:
    return sum(1 for m in seen if m.server_content and m.server_content.interrupted)


async def test_without_the_option_nothing_changes(server: RunningServer) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG) as session:
        assert await ask(session, "hi") == "echo: hi"
        assert session.resumption_handle is None  # no sessionResumption asked for
        runtime = await runtime_of(server, session)
        await runtime.inject("drop", 0)
        with pytest.raises(LiveConnectionClosed) as info:
            await ask(session, "again")
        assert info.value.code == 1006
        assert not isinstance(info.value, ReconnectFailed)
        assert session.reconnects == 0


async def test_setup_asks_for_transparent_resumption(server: RunningServer) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=True) as session:
        assert session._setup is not None
        assert session._setup.session_resumption is not None
        assert session._setup.session_resumption.transparent is True
        await ask(session, "one")
        _, seen = await reply_to_next(session, "two")
        updates = [m.session_resumption_update for m in seen if m.session_resumption_update]
        assert any(u.last_consumed_client_message_index == "0" for u in updates)
        assert session.resumption_handle


async def reply_to_next(session: AsyncSession, text: str) -> tuple[str, list[ServerMessage]]:
    await session.send_client_content(turns=text)
    return await asyncio.wait_for(reply_to(session), 20)


async def test_a_drop_mid_reply_resumes_and_the_turn_is_answered_again(
    server: RunningServer,
) -> None:
    client = Client(base_url=server.http)
    infos: list[ReconnectInfo] = []
    async with client.aio.live.connect(
        model=MODEL, config=CONFIG, reconnect=FAST, callbacks={"on_reconnect": infos.append}
    ) as session:
        session_id = session.session_id
        assert await ask(session, "my name is Ada") == "echo: my name is Ada"
        runtime = await runtime_of(server, session)
        await session.send_client_content(turns="tell me a rather long story please")
        seen: list[ServerMessage] = []
        partial = ""
        async for message in session.receive():
            seen.append(message)
            partial += message.text or ""
            if message.text and len(seen) < 50 and not session.reconnects:
                await runtime.inject("drop", 0)  # the TCP connection is cut mid-reply
        full = "echo: tell me a rather long story please"
        # what came before the drop stays received; then interrupted; then the new answer
        assert partial.endswith(full) and len(partial) > len(full)
        assert interrupted(seen) == 1
        assert session.reconnects == 1 and session.session_id == session_id
        assert [i.code for i in infos] == [1006]
        assert infos[0].interrupted and infos[0].replayed == 1
        # the conversation is intact: the replayed turn is in it exactly once
        history = await ask(session, "[[history]]")
        assert history == "echo: history: my name is Ada | tell me a rather long story please"


@pytest.mark.parametrize("code", [1011, 1001, 1006])
async def test_server_closes_worth_retrying_resume(server: RunningServer, code: int) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
        assert await ask(session, "first") == "echo: first"
        runtime = await runtime_of(server, session)
        await session.send_client_content(turns="second one, a longer reply")
        reply, seen = "", []
        async for message in session.receive():
            seen.append(message)
            reply += message.text or ""
            if message.text and not session.reconnects and interrupted(seen) == 0:
                if code == 1006:
                    await runtime.inject("drop", 0)
                else:
                    await runtime.inject("close", code)
        assert reply.endswith("echo: second one, a longer reply")
        assert session.reconnects == 1
        assert await ask(session, "[[history]]") == (
            "echo: history: first | second one, a longer reply"
        )


async def test_fault_goaway_moves_at_the_turn_boundary(server: RunningServer) -> None:
    client = Client(base_url=server.http)
    infos: list[ReconnectInfo] = []
    async with client.aio.live.connect(
        model=MODEL, config=CONFIG, reconnect=FAST, callbacks={"on_reconnect": infos.append}
    ) as session:
        assert await ask(session, "remember this") == "echo: remember this"
        started = time.monotonic()
        reply, seen = await reply_to_next(session, "[[fault goaway 1]] bye")
        assert reply == "echo: [[fault goaway 1]] bye"  # the turn finished on the old one
        assert any(m.go_away is not None for m in seen)  # the app sees the goAway too
        assert interrupted(seen) == 0
        for _ in range(100):
            if session.reconnects:
                break
            await asyncio.sleep(0.01)
        assert session.reconnects == 1
        assert time.monotonic() - started < 1.0  # moved before the connection ended
        assert infos[0].code == 1000 and not infos[0].interrupted and infos[0].replayed == 0
        assert await ask(session, "[[history]]") == (
            "echo: history: remember this | [[fault goaway 1]] bye"
        )


async def test_connection_lifetime_is_invisible_to_the_application() -> None:
    config = echo_config(max_connection_seconds=0.8, goaway_notice_seconds=0.3)
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
            said = []
            started = time.monotonic()
            i = 0
            while time.monotonic() - started < 2.2:
                text = f"turn {i}"
                assert await ask_final(session, text) == f"echo: {text}"
                said.append(text)
                i += 1
                await asyncio.sleep(0.1)
            assert session.reconnects >= 2
            assert await ask_final(session, "[[history]]") == "echo: history: " + " | ".join(said)


async def test_drain_lets_the_turn_finish_and_the_session_moves(server: RunningServer) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
        assert await ask(session, "before") == "echo: before"
        runtime = await runtime_of(server, session)
        await session.send_client_content(turns="during the drain, a reply")
        reply, seen, draining = "", [], None
        async for message in session.receive():
            seen.append(message)
            reply += message.text or ""
            if message.text and draining is None:
                draining = asyncio.create_task(runtime.drain(5.0))  # as on SIGTERM
        assert draining is not None
        await draining
        assert reply == "echo: during the drain, a reply"  # not interrupted
        assert interrupted(seen) == 0
        assert await ask(session, "[[history]]") == (
            "echo: history: before | during the drain, a reply"
        )
        assert session.reconnects == 1


async def test_idle_session_drained_closes_1001_and_resumes(server: RunningServer) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
        assert await ask(session, "kept") == "echo: kept"
        runtime = await runtime_of(server, session)
        await runtime.drain(5.0)
        assert await ask(session, "[[history]]") == "echo: history: kept"
        assert session.reconnects == 1


@pytest.mark.parametrize("code", [1008, 1007])
async def test_no_reconnect_after_a_deliberate_refusal(server: RunningServer, code: int) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
        await ask(session, "hello")
        runtime = await runtime_of(server, session)
        await runtime.inject("close", code)
        with pytest.raises(LiveConnectionClosed) as info:
            await ask(session, "again")
        assert info.value.code == code and not isinstance(info.value, ReconnectFailed)
        assert session.reconnects == 0 and session.is_closed


async def test_no_reconnect_after_the_application_closes(server: RunningServer) -> None:
    client = Client(base_url=server.http)
    closes: list[tuple[int, str]] = []
    async with client.aio.live.connect(
        model=MODEL,
        config=CONFIG,
        reconnect=FAST,
        callbacks={"on_close": lambda code, reason: closes.append((code, reason))},
    ) as session:
        await ask(session, "hello")
        await session.close()
        left = [m async for m in session.stream()]  # what had arrived, then it ends quietly
        assert all(m.server_content is None for m in left)
        await asyncio.sleep(0.2)
        assert session.reconnects == 0
        assert closes and closes[0][0] == 1000
        with pytest.raises(LiveConnectionClosed):
            await session.send_client_content(turns="after close")
    await asyncio.sleep(0.1)
    assert not [r for r in server.app.runtimes if not r.ended]


async def test_a_refused_handle_gives_up_with_reconnect_failed(server: RunningServer) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
        await ask(session, "hello")
        runtime = await runtime_of(server, session)
        await asyncio.sleep(0.1)  # the update after the turn has arrived
        session.resumption_handle = "not-a-handle-the-server-issued"
        await runtime.inject("drop", 0)
        with pytest.raises(ReconnectFailed) as info:
            await ask(session, "again")
        assert info.value.code == 1008 and "refused to resume" in info.value.reason
        assert info.value.attempts == 1


async def test_a_session_taken_over_elsewhere_is_not_resumed(server: RunningServer) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
        await ask(session, "hello")
        await asyncio.sleep(0.05)
        handle = session.resumption_handle
        assert handle
        other = await ws_connect(f"{server.ws}{PATH}")
        setup = {"model": f"models/{MODEL}", "sessionResumption": {"handle": handle}}
        await other.send(json.dumps({"setup": setup}))
        assert "setupComplete" in json.loads(await other.recv())
        with pytest.raises(LiveConnectionClosed) as info:
            await asyncio.wait_for(reply_to(session), 10)
        assert info.value.code == 1000 and "another connection" in info.value.reason
        assert session.reconnects == 0
        await other.close()


async def test_a_fault_directive_cuts_once_and_the_replayed_turn_is_answered(
    server: RunningServer,
) -> None:
    """``[[fault drop]]`` cuts the connection mid-reply; the SDK resumes and replays the turn,
    which the echo engine answers this time (a directive fires once per session and text)."""
    client = Client(base_url=server.http)
    options = Reconnect(max_attempts=3, backoff=0.02, max_backoff=0.05)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=options) as session:
        await ask(session, "hello")
        reply = await asyncio.wait_for(ask_final(session, "[[fault drop]] boom"), 20)
        assert reply == "echo: [[fault drop]] boom"
        assert session.reconnects == 1
        history = await ask(session, "[[history]]")
        assert history == "echo: history: hello | [[fault drop]] boom"


@pytest.mark.parametrize(
    ("directive", "code"), [("[[fault drop]]", 1006), ("[[fault close 1011]]", 1011)]
)
async def test_fault_directives_without_transparent_resumption(
    server: RunningServer, directive: str, code: int
) -> None:
    """Without transparent resumption the turn that was cut is not sent again: the SDK ends
    it (interrupted + turnComplete), and the conversation goes on from the last handle."""
    client = Client(base_url=server.http)
    infos: list[ReconnectInfo] = []
    options = Reconnect(transparent=False, backoff=0.02)
    async with client.aio.live.connect(
        model=MODEL, config=CONFIG, reconnect=options, callbacks={"on_reconnect": infos.append}
    ) as session:
        assert session._setup is not None and session._setup.session_resumption is not None
        assert session._setup.session_resumption.transparent is None
        assert await ask(session, "my name is Ada") == "echo: my name is Ada"
        reply, seen = await reply_to_next(session, f"{directive} hello")
        assert f"echo: {directive} hello".startswith(reply)  # what came before the cut
        last = seen[-1].server_content
        assert last is not None and last.interrupted and last.turn_complete
        assert session.reconnects == 1 and infos[0].code == code and infos[0].replayed == 0
        assert await ask(session, "[[history]]") == "echo: history: my name is Ada"


async def test_messages_not_consumed_are_sent_again_exactly_once(
    server: RunningServer,
) -> None:
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
        assert await ask(session, "one") == "echo: one"
        dial = session._dial
        assert dial is not None
        dialing = asyncio.Event()

        async def slow_dial(setup: Any) -> Any:
            dialing.set()
            await asyncio.sleep(0.3)  # the application sends meanwhile
            return await dial(setup)

        session._dial = slow_dial
        runtime = await runtime_of(server, session)
        # sent on the live connection, perhaps not consumed before the drop
        await session.send_client_content(turns="two", turn_complete=False)
        await runtime.inject("drop", 0)
        await asyncio.wait_for(dialing.wait(), 5)
        # sent while no connection is up
        await session.send_client_content(turns="three", turn_complete=False)
        await session.send_client_content(turns="four")
        reply, seen = await asyncio.wait_for(reply_to(session), 20)
        assert reply == "echo: four" and interrupted(seen) == 0
        assert session.reconnects == 1
        assert await ask(session, "[[history]]") == "echo: history: one | two | three | four"
        await asyncio.sleep(0.1)  # the update after the turn has arrived
        assert session._replay is not None and len(session._replay) == 0


async def test_the_sync_session_reconnects_too() -> None:
    config = echo_config(max_connection_seconds=0.6, goaway_notice_seconds=0.2)
    async with running_app(config) as server:

        def run() -> tuple[int, str]:
            client = Client(base_url=server.http)
            with client.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
                for text in ("a", "b", "c"):
                    session.send_client_content(text)
                    for _ in session.receive():
                        pass
                    time.sleep(0.4)
                session.send_client_content("[[history]]")
                reply = "".join(m.text or "" for m in session.receive())
                return session.reconnects, reply

        reconnects, reply = await asyncio.to_thread(run)
        assert reconnects >= 1
        assert reply == "echo: history: a | b | c"


async def test_a_lost_handle_update_does_not_make_the_turn_happen_twice(
    server: RunningServer,
) -> None:
    """The update with the newer handle is lost with the connection (CI hit this when a goAway
    move raced the end of a turn): the SDK resumes with the handle before it, which the server
    still honours for its grace and which resumes the session's latest state. The server says
    right after ``setupComplete`` what that state holds, so the turn already answered is not
    sent again: no second answer, no second copy in the history."""
    client = Client(base_url=server.http)
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:
        assert await ask(session, "one") == "echo: one"
        runtime = await runtime_of(server, session)
        send = runtime._send

        async def losing_handles(message: ServerMessage) -> None:
            update = message.session_resumption_update
            if update is None or not update.new_handle:
                await send(message)

        runtime._send = losing_handles  # type: ignore[method-assign]
        assert await ask(session, "two") == "echo: two"
        await asyncio.sleep(0.2)  # the state holding "two" is kept under a handle never sent
        await runtime.inject("drop", 0)
        assert await ask(session, "[[history]]") == "echo: history: one | two"
        assert session.reconnects == 1


async def test_a_goaway_move_does_not_wait_on_streamed_audio(server: RunningServer) -> None:
    """Audio chunks keep streaming after the turn that brought the goAway: they are not in any
    handle (the state does not change), yet the session moves as soon as the turn's handle
    came, not at the deadline (60 s here)."""
    client = Client(base_url=server.http)
    silence = bytes(3200)  # 100 ms of 16 kHz PCM16
    async with client.aio.live.connect(model=MODEL, config=CONFIG, reconnect=FAST) as session:

        async def stream() -> None:
            while True:
                await session.send_realtime_input(
                    audio={"data": silence, "mime_type": "audio/pcm;rate=16000"}
                )
                await asyncio.sleep(0.005)

        streaming = asyncio.create_task(stream())
        try:
            await asyncio.sleep(0.2)  # chunks are in flight whenever a handle is issued
            reply, _ = await reply_to_next(session, "[[fault goaway 60]] bye")
            assert reply == "echo: [[fault goaway 60]] bye"

            async def moved() -> None:
                while not session.reconnects:
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(moved(), 20)  # the deadline would be 59 s away
        finally:
            streaming.cancel()
        assert await ask(session, "[[history]]") == "echo: history: [[fault goaway 60]] bye"


def test_only_audio_and_video_chunks_count_as_media() -> None:
    from openlive.client.session import _is_media
    from openlive.types import ClientMessage

    def message(**realtime: Any) -> ClientMessage:
        return ClientMessage.model_validate({"realtimeInput": realtime})

    chunk = {"data": "AAAA", "mimeType": "audio/pcm;rate=16000"}
    assert _is_media(message(audio=chunk))
    assert _is_media(message(video={"data": "AAAA", "mimeType": "image/jpeg"}))
    assert not _is_media(message(text="hi"))
    assert not _is_media(message(audioStreamEnd=True))
    assert not _is_media(message(activityEnd={}))
    assert not _is_media(ClientMessage.model_validate({"clientContent": {"turnComplete": True}}))
