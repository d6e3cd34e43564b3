"""The SDK holds at most ``QUEUE_LIMIT`` unread server messages: an application that does not
read makes the SDK stop reading the socket (the server then slows that session down), and
nothing is lost once it reads again."""

from __future__ import annotations

import asyncio

from openlive import Client
from openlive.client.session import QUEUE_LIMIT
from openlive.server import ServerConfig

from ..conftest import running_app


async def test_unread_messages_are_bounded_and_nothing_is_lost() -> None:
    config = ServerConfig(port=0, tls_port=0, no_tls=True, model="echo", echo_delay=0)
    async with running_app(config) as server:
        client = Client(base_url=server.http)
        text = "x" * 8 * (QUEUE_LIMIT * 3)  # the echo engine sends 8 characters a chunk
        async with client.aio.live.connect(
            model="gemini-x", config={"response_modalities": ["TEXT"]}
        ) as session:
            await session.send_client_content(turns=text)
            queue = session._queue
            for _ in range(400):
                await asyncio.sleep(0.01)
                assert queue.qsize() <= QUEUE_LIMIT
                if queue.full():
                    break
            assert queue.full()  # the SDK stopped reading; the rest waits in the server
            received = ""
            async for message in session.receive():
                received += message.text or ""
            assert received == f"echo: {text}"
