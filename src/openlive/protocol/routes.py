"""Which WebSocket paths lead where (spec §1.6).

Repeated slashes are collapsed and any path prefix is accepted, since the official SDKs build
``{base}/ws/…`` from a base URL that may end in ``/`` or carry a path of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Method", "Route", "match_route", "normalize_path"]


class Method(StrEnum):
    LIVE = "BidiGenerateContent"
    LIVE_CONSTRAINED = "BidiGenerateContentConstrained"
    MUSIC = "BidiGenerateMusic"


@dataclass(frozen=True, slots=True)
class Route:
    """A matched WebSocket route."""

    method: Method
    api_version: str
    vertex: bool = False
    proxy: bool = False
    """True when the path matched no known form (Vertex proxy mode sends the user's own path)."""


_GEMINI = re.compile(
    r"^/(?:.*/)?ws/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\.GenerativeService\."
    r"(BidiGenerateContent|BidiGenerateContentConstrained|BidiGenerateMusic)$"
)
_VERTEX = re.compile(
    r"^/(?:.*/)?ws/google\.cloud\.aiplatform\.(v1|v1beta1)\.LlmBidiService/BidiGenerateContent$"
)
_FIREBASE = re.compile(
    r"^/(?:.*/)?ws/google\.firebase\.vertexai\.(v1beta)\.(GenerativeService|LlmBidiService)"
    r"/BidiGenerateContent(?:/locations/[^/]+)?$"
)
_SLASHES = re.compile(r"/{2,}")


def normalize_path(path: str) -> str:
    """Drop the query string and collapse repeated slashes."""
    path = path.split("?", 1)[0]
    return _SLASHES.sub("/", path) or "/"


def match_route(path: str, *, allow_proxy: bool = True) -> Route | None:
    """The route for a request path, or ``None`` when it is not a Live endpoint."""
    clean = normalize_path(path)
    if m := _GEMINI.match(clean):
        return Route(Method(m.group(2)), m.group(1))
    if m := _VERTEX.match(clean):
        return Route(Method.LIVE, m.group(1), vertex=True)
    if m := _FIREBASE.match(clean):
        return Route(Method.LIVE, m.group(1), vertex=m.group(2) == "LlmBidiService")
    if allow_proxy:
        return Route(Method.LIVE, "v1beta1", vertex=True, proxy=True)
    return None
