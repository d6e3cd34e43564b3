"""Where a client's credential travels (spec §1.6) and how it is checked."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import PolicyViolation, Unauthenticated

__all__ = ["Credential", "Grant", "KeyChecker", "extract_credential", "principal_of"]

EPHEMERAL_PREFIX = "auth_tokens/"
EPHEMERAL_REFUSAL = "ephemeral tokens are not enabled on this server; use an API key"


@dataclass(frozen=True, slots=True)
class Credential:
    value: str
    source: str
    """Where it came from: ``query:key``, ``header:x-goog-api-key``, ``header:authorization``..."""

    @property
    def ephemeral(self) -> bool:
        return self.value.startswith(EPHEMERAL_PREFIX)


def principal_of(key: str) -> str:
    """Who a key stands for, without the key itself: resumption handles and tokens are bound
    to it."""
    return "key:" + hashlib.sha256(_as_bytes(key)).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Grant:
    """What a checked credential allows a connection."""

    principal: str
    """Who is asking (:func:`principal_of` the API key; for an ephemeral token, the key that
    created it): resumption handles are bound to it."""
    token: str | None = None
    """The ephemeral token used, if any."""
    constraints: dict[str, Any] | None = None
    """The token's ``bidiGenerateContentSetup`` (wire JSON), if it has one."""
    field_mask: tuple[str, ...] | None = None
    """The token's ``fieldMask`` paths (None: the whole constrained setup is locked)."""
    expires_at: float | None = None
    """Unix time after which the session may not go on (an ephemeral token's
    ``expireTime``): the connection closes it then with 1008."""


def extract_credential(path: str, headers: Mapping[str, str]) -> Credential | None:
    """The first credential found, in the order the spec gives."""
    query = parse_qs(urlsplit(path).query)
    for name in ("key", "access_token"):
        values = query.get(name)
        if values and values[0]:
            return Credential(values[0], f"query:{name}")
    lowered = {k.lower(): v for k, v in headers.items()}
    api_key = _header_text(lowered.get("x-goog-api-key", "")).strip()
    if api_key:
        return Credential(api_key, "header:x-goog-api-key")
    scheme, _, token = _header_text(lowered.get("authorization", "")).strip().partition(" ")
    if scheme.lower() in ("token", "bearer") and token.strip():
        return Credential(token.strip(), "header:authorization")
    return None


def _as_bytes(key: str) -> bytes:
    """A key as the bytes to compare: ``hmac.compare_digest`` refuses a str that holds
    non-ASCII characters, and such a key must be just another unknown key (1008), not a crash.
    ``surrogatepass`` encodes even a lone surrogate rather than raise."""
    return key.encode("utf-8", "surrogatepass")


def _header_text(value: str) -> str:
    """Header values arrive decoded as ISO-8859-1 (HTTP's historical charset, websockets' too):
    a key sent as UTF-8 bytes reads back as its text, as it does from the query string."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


class KeyChecker:
    """Accepts any credential when no keys are configured, else exactly the configured keys."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._keys = tuple(_as_bytes(k) for k in keys if k)

    @property
    def open(self) -> bool:
        return not self._keys

    def check(self, credential: Credential | None) -> Grant:
        """The grant of an API key; raise :class:`Unauthenticated` (1008) unless the
        credential is acceptable."""
        if credential is not None and credential.ephemeral:
            raise PolicyViolation(EPHEMERAL_REFUSAL)
        if self.open:
            return Grant(principal_of(credential.value if credential else ""))
        if credential is None:
            raise Unauthenticated(
                "API key required: send it as ?key=, x-goog-api-key or Authorization: Bearer"
            )
        offered = _as_bytes(credential.value)
        if not any(hmac.compare_digest(offered, k) for k in self._keys):
            raise Unauthenticated("API key not valid. Please pass a valid API key.")
        return Grant(principal_of(credential.value))
