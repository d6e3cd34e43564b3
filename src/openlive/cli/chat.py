"""``openlive chat`` and ``openlive models``: a terminal client for a server.

``openlive chat "question"`` asks one question and prints the reply; without a question it is an
interactive chat. ``--image PATH`` (repeatable) sends images (JPEG, PNG or WebP) as
``inlineData`` parts of the first user turn, ahead of its text.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import inspect
import json
import ssl
import sys
import urllib.request
from typing import Any

from ..client import AsyncSession, Client, Tools, to_image_blob
from ..errors import LiveConnectionClosed
from ..types import Blob, Content, Part

__all__ = ["chat_command", "models_command"]

QUIT = {"/quit", "/exit", "/q"}


def _client(args: argparse.Namespace) -> Client:
    context = ssl.create_default_context()
    return Client(base_url=args.url, api_key=args.api_key, ssl=context)


def _load_images(paths: list[str]) -> list[Blob]:
    """The ``--image`` files as blobs; a missing or unsupported file ends the command."""
    images = []
    for path in paths:
        try:
            images.append(to_image_blob(path))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"openlive chat: --image {path}: {exc}") from None
    return images


def _user_turn(text: str, images: list[Blob]) -> Content:
    """A user turn: the images first, then the words."""
    parts = [Part(inline_data=image) for image in images]
    parts.append(Part(text=text))
    return Content(role="user", parts=parts)


async def _ask(session: AsyncSession, turn: Content, prefix: str) -> None:
    """Send one user turn and print the streamed reply."""
    await session.send_client_content(turns=turn, turn_complete=True)
    sys.stdout.write(prefix)
    async for message in session.receive():
        if message.tool_call is not None:
            for call in message.tool_call.function_calls:
                print(f"[tool] {call.name}({json.dumps(call.args)})", file=sys.stderr)
        if message.text:
            sys.stdout.write(message.text)
            sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stdout.flush()


async def _chat(args: argparse.Namespace) -> int:
    client = _client(args)
    config: dict[str, Any] = {"response_modalities": ["TEXT"]}
    if args.system:
        config["system_instruction"] = args.system
    if args.temperature is not None:
        config["temperature"] = args.temperature
    tools = _load_tools(args.tools) if getattr(args, "tools", None) else None
    if tools is not None:
        config["tools"] = tools.config()
    images = _load_images(getattr(args, "image", None) or [])
    question: str | None = getattr(args, "question", None)
    loop = asyncio.get_running_loop()
    try:
        async with client.aio.live.connect(model=args.model, config=config) as session:
            leave = "" if question is not None else "; /quit to leave"
            print(
                f"connected to {client.base_url} (session {session.session_id}){leave}",
                file=sys.stderr,
            )
            if tools is not None:
                session.use_tools(tools)
                print(f"tools: {', '.join(tools.functions)}", file=sys.stderr)
            if question is not None:
                await _ask(session, _user_turn(question, images), "")
                return 0
            if images:
                names = ", ".join(args.image)
                print(f"images: {names} (sent with your first message)", file=sys.stderr)
            while True:
                try:
                    line = await loop.run_in_executor(None, lambda: input("you> "))
                except EOFError:
                    return 0
                if line.strip() in QUIT:
                    return 0
                if not line.strip():
                    continue
                await _ask(session, _user_turn(line, images), "model> ")
                images = []
    except LiveConnectionClosed as exc:
        hint = ""
        if exc.code == 1006:
            hint = " (is `openlive serve` running? set --url)"
        print(f"openlive chat: session closed: {exc.code} {exc.reason}{hint}", file=sys.stderr)
        return 1


def _load_tools(path: str) -> Tools:
    """The public functions a Python file defines, as tools the session answers with."""
    spec = importlib.util.spec_from_file_location("openlive_chat_tools", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"openlive chat: cannot load tools from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    functions = [
        value
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    ]
    if not functions:
        raise SystemExit(f"openlive chat: {path} defines no public function")
    return Tools(*functions)


def chat_command(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_chat(args))
    except KeyboardInterrupt:
        return 0


def models_command(args: argparse.Namespace) -> int:
    client = _client(args)
    url = client.base_url.replace("ws://", "http://").replace("wss://", "https://")
    url = url.rstrip("/") + "/healthz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
    except OSError as exc:
        print(f"openlive models: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    for row in body.get("models", []):
        flags = " (default)" if row.get("default") else ""
        state = ""
        if "ready" in row:
            state = "ready" if row["ready"] else "loading" if row.get("loading") else "not loaded"
            state = f"  [{state}]"
        print(f"{row['name']:<40} engine={row['engine']}{flags}{state}")
    return 0
