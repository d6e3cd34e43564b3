"""The web console: a page served by ``openlive serve`` at ``/`` for talking to the server from
a browser (voice, text, screen, tools, music).

The page is static files shipped in this package (``static/``), plain ES modules with no build
step. :func:`asset` gives the bytes and content type of one of them; :func:`console_info` is
what the page reads at start (``/console/info``): the models, voices and music models the
server serves and whether it asks for an API key. The page never holds a long-lived key of the
server's: it mints a single-use ephemeral token (``POST /v1alpha/auth_tokens``) for every
connection, with the key the user typed when the server has keys.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

__all__ = ["CONSOLE_PREFIX", "PAGE_HEADERS", "asset", "console_info"]

CONSOLE_PREFIX = "/console/"
"""Where the page's files are served from (the page itself is at ``/``)."""

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}

PAGE_HEADERS: tuple[tuple[str, str], ...] = (
    (
        "Content-Security-Policy",
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
        "media-src 'self' blob:; style-src 'self'; script-src 'self'; worker-src 'self' blob:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-cache"),
)
"""Sent with every file of the console: its scripts and styles come from the server only and
it talks to nothing but this server's HTTP and WebSocket endpoints."""


@cache
def _files() -> dict[str, bytes]:
    root = resources.files(__package__).joinpath("static")
    return {
        entry.name: entry.read_bytes()
        for entry in root.iterdir()
        if entry.is_file() and any(entry.name.endswith(ext) for ext in _TYPES)
    }


def asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type of the console file ``name`` (``index.html``, ``live.js``…),
    or None when there is no such file (names with a path in them never match)."""
    body = _files().get(name)
    if body is None:
        return None
    suffix = name[name.rfind(".") :]
    return body, _TYPES[suffix]


def console_info(
    *, version: str, models: list[str], music_models: list[str], voices: list[str], keys: bool
) -> dict[str, Any]:
    """What the page needs to offer its choices (``GET /console/info``)."""
    return {
        "name": "openlive",
        "version": version,
        "models": models,
        "musicModels": music_models,
        "voices": voices,
        "apiKeyRequired": keys,
        "tokens": "/v1alpha/auth_tokens",
        "health": "/healthz",
    }
