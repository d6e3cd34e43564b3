"""Ephemeral auth tokens (spec §10): minted over REST with an API key, redeemed by a page.

A token (``auth_tokens/<id>``) stands for the API key that created it: sessions opened with
it get that key's principal, so a resumption handle works alike with the key and its tokens.
It lives in the shared store (``App.store``), so any node can redeem a token any node minted:

* ``token:<sha256 of the name>``: the token's record (JSON), kept an hour past its
  ``expireTime`` so that a late user is told it expired rather than that it is unknown;
* ``token:<sha256>:uses``: sessions started with it, counted atomically (``incr``);
* ``token-rate:<principal>:<minute>``: tokens a key created in that minute (``token_rate``).

The rules: new sessions are refused after ``newSessionExpireTime`` and once ``uses`` sessions
have started (0 = unlimited); a setup with ``sessionResumption.handle`` resumes a session and
is neither counted nor bound by ``newSessionExpireTime``; nothing is accepted after
``expireTime``, and a session still open then is closed (1008) by its connection. A token's
``bidiGenerateContentSetup`` constrains the connection's setup as its ``fieldMask`` says
(:func:`apply_constraints`). Tokens are accepted on the ``BidiGenerateContentConstrained``
route only (the official SDKs use it whenever their key is a token); that route also takes a
plain API key.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from ..errors import (
    InvalidArgument,
    PolicyViolation,
    RequestRefused,
    ServerFault,
    Unauthenticated,
)
from ..protocol import Credential, Grant, KeyChecker, Method, Route
from ..protocol.credentials import EPHEMERAL_PREFIX
from ..session.features import review_setup
from ..store import Store
from ..types import ClientMessage, Setup

__all__ = [
    "DEFAULT_EXPIRE_SECONDS",
    "DEFAULT_NEW_SESSION_SECONDS",
    "MAX_AHEAD_SECONDS",
    "TokenRecord",
    "TokenService",
    "apply_constraints",
    "parse_field_mask",
]

DEFAULT_EXPIRE_SECONDS = 30 * 60
"""``expireTime`` when the request gives none: 30 minutes from now."""
DEFAULT_NEW_SESSION_SECONDS = 60
"""``newSessionExpireTime`` when the request gives none: 60 seconds from now."""
MAX_AHEAD_SECONDS = 20 * 3600
"""Both times must be less than 20 hours ahead."""
_GRACE_SECONDS = 3600
_NAME = re.compile(r"auth_tokens/[A-Za-z0-9_-]{16,128}")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_SETUP_FIELDS = frozenset(
    field.alias or to_camel(name) for name, field in Setup.model_fields.items()
)
_MISSING = object()


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What the store keeps of a token (never the token itself: it is keyed by its hash)."""

    principal: str
    expire_at: float
    new_session_expire_at: float
    uses: int
    setup: dict[str, Any] | None
    field_mask: tuple[str, ...] | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "principal": self.principal,
                "expireAt": self.expire_at,
                "newSessionExpireAt": self.new_session_expire_at,
                "uses": self.uses,
                "setup": self.setup,
                "fieldMask": None if self.field_mask is None else list(self.field_mask),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> TokenRecord:
        data = json.loads(text)
        mask = data.get("fieldMask")
        return cls(
            principal=data["principal"],
            expire_at=float(data["expireAt"]),
            new_session_expire_at=float(data["newSessionExpireAt"]),
            uses=int(data["uses"]),
            setup=data.get("setup"),
            field_mask=None if mask is None else tuple(mask),
        )


# ---- field masks ----


def parse_field_mask(value: Any) -> tuple[str, ...] | None:
    """``fieldMask`` as camelCase paths (comma-separated string or a list; duplicates and
    blanks dropped); None when absent or empty. Raises :class:`ValueError` for a path whose
    first name is not a field of the setup."""
    if value is None:
        return None
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError("fieldMask must be a comma-separated string of field paths")
    paths: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError("fieldMask must be a comma-separated string of field paths")
        names = [to_camel(name.strip()) for name in item.strip().split(".")]
        if names == [""]:
            continue
        if any(not name for name in names):
            raise ValueError(f"fieldMask path {item.strip()!r} has an empty field name")
        if names[0] not in _SETUP_FIELDS:
            raise ValueError(
                f"fieldMask path {item.strip()!r}: {names[0]!r} is not a field of "
                "BidiGenerateContentSetup"
            )
        path = ".".join(names)
        if path not in paths:
            paths.append(path)
    return tuple(paths) or None


def _wire(setup: Mapping[str, Any]) -> dict[str, Any]:
    """A setup as canonical wire JSON: camelCase keys (snake_case accepted), only the fields
    that were given. Raises :class:`ValidationError`."""
    return Setup.model_validate(setup).model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude_unset=True
    )


def _get(tree: Mapping[str, Any], names: Sequence[str]) -> Any:
    node: Any = tree
    for name in names:
        if not isinstance(node, Mapping) or name not in node:
            return _MISSING
        node = node[name]
    return node


def _put(tree: dict[str, Any], names: Sequence[str], value: Any) -> None:
    node = tree
    for name in names[:-1]:
        child = node.get(name)
        if not isinstance(child, dict):
            child = node[name] = {}
        node = child
    node[names[-1]] = value


def _drop(tree: dict[str, Any], names: Sequence[str]) -> None:
    parent = _get(tree, names[:-1]) if len(names) > 1 else tree
    if isinstance(parent, dict):
        parent.pop(names[-1], None)


def apply_constraints(
    client_setup: Mapping[str, Any] | None,
    token_setup: Mapping[str, Any] | None,
    field_mask: Sequence[str] | None,
) -> dict[str, Any]:
    """The setup a session runs with: the connection's ``client_setup`` constrained by a
    token's ``token_setup`` and ``field_mask`` (spec §10.1), as wire JSON.

    * no field mask, token setup present: the token's setup, whole (the client's is ignored);
    * field mask present: the client's setup, with each listed path taken from the token's
      setup (a path the token's setup lacks is removed: locked to its default);
    * no field mask, no token setup: the client's setup as it is.

    Either way ``sessionResumption.handle`` is the client's: it says which session to resume,
    and a token cannot know it. Both setups may use camelCase or snake_case keys; paths are
    camelCase (``generationConfig.temperature``). Raises :class:`ValidationError` for a setup
    that is not one.
    """
    client = _wire(client_setup or {})
    if field_mask is None and token_setup is None:
        return client
    token = _wire(token_setup or {})
    if field_mask is None:
        merged = copy.deepcopy(token)
    else:
        merged = copy.deepcopy(client)
        for path in field_mask:
            names = [to_camel(name) for name in path.split(".")]
            value = _get(token, names)
            if value is _MISSING:
                _drop(merged, names)
            else:
                _put(merged, names, copy.deepcopy(value))
    handle = _get(client, ("sessionResumption", "handle"))
    if isinstance(handle, str) and handle:
        _put(merged, ("sessionResumption", "handle"), handle)
    return merged


# ---- times ----


def _parse_time(value: Any, field: str) -> float:
    """An RFC 3339 time (``Z`` or an offset; nanoseconds allowed) as unix time."""
    if not isinstance(value, str) or not value.strip():
        raise RequestRefused(400, "INVALID_ARGUMENT", f"{field} must be an RFC 3339 time string")
    text = _FRACTION.sub(r"\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RequestRefused(
            400, "INVALID_ARGUMENT", f"{field} {value!r} is not an RFC 3339 time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _rfc3339(moment: float) -> str:
    when = datetime.fromtimestamp(moment, UTC)
    text = when.isoformat(timespec="microseconds" if when.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _field(body: Mapping[str, Any], camel: str) -> Any:
    if camel in body:
        return body[camel]
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)
    return body.get(snake)


def _invalid(message: str) -> RequestRefused:
    return RequestRefused(400, "INVALID_ARGUMENT", message)


def _describe(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(to_camel(p) if isinstance(p, str) else f"[{p}]" for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


# ---- the service ----


class TokenService:
    """Mints tokens (:meth:`create`) and checks the credentials of Live connections
    (:meth:`authorize`, the connection's ``Authorizer``)."""

    def __init__(
        self,
        store: Store,
        keys: KeyChecker,
        rate: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.keys = keys
        self.rate = rate
        """Tokens one API key may create per minute (0: no limit)."""
        self.clock = clock

    @staticmethod
    def _key(name: str) -> str:
        return "token:" + hashlib.sha256(name.encode()).hexdigest()

    def retry_after(self) -> float:
        """Seconds until the rate limit's minute ends."""
        return 60 - self.clock() % 60

    # ---- REST ----

    async def create(self, credential: Credential | None, body: bytes) -> dict[str, Any]:
        """Mint a token for ``POST /v1alpha/auth_tokens``; return the response body (an
        AuthToken). Raises :class:`RequestRefused` (400, 401, 403, 429)."""
        principal = self._creator(credential)
        request = self._read_body(body)
        now = self.clock()
        expire_at = (
            _parse_time(request["expireTime"], "expireTime")
            if request.get("expireTime") is not None
            else now + DEFAULT_EXPIRE_SECONDS
        )
        new_session_at = (
            _parse_time(request["newSessionExpireTime"], "newSessionExpireTime")
            if request.get("newSessionExpireTime") is not None
            else min(now + DEFAULT_NEW_SESSION_SECONDS, expire_at)
        )
        for field, moment in (("expireTime", expire_at), ("newSessionExpireTime", new_session_at)):
            if moment <= now:
                raise _invalid(f"{field} {_rfc3339(moment)} is in the past")
            if moment - now >= MAX_AHEAD_SECONDS:
                raise _invalid(f"{field} must be less than 20 hours ahead")
        uses = self._uses(request.get("uses"))
        setup, mask = self._constraints(request)
        if self.rate > 0:
            window = int(now // 60)
            made = await self.store.incr(f"token-rate:{principal}:{window}", ttl=120)
            if made > self.rate:
                raise RequestRefused(
                    429,
                    "RESOURCE_EXHAUSTED",
                    f"token creation rate exceeded: {self.rate} per minute per API key; "
                    "retry after the minute ends",
                )
        name = EPHEMERAL_PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(principal, expire_at, new_session_at, uses, setup, mask)
        ttl = expire_at - now + _GRACE_SECONDS
        if not await self.store.put_new(self._key(name), record.to_json(), ttl=ttl):
            raise RequestRefused(500, "INTERNAL", "token id collision; try again")
        reply: dict[str, Any] = {
            "name": name,
            "expireTime": _rfc3339(expire_at),
            "newSessionExpireTime": _rfc3339(new_session_at),
            "uses": uses,
        }
        if setup is not None:
            reply["bidiGenerateContentSetup"] = setup
        if mask is not None:
            reply["fieldMask"] = ",".join(mask)
        return reply

    def _creator(self, credential: Credential | None) -> str:
        if credential is not None and credential.ephemeral:
            raise RequestRefused(
                403, "PERMISSION_DENIED", "an ephemeral token cannot create tokens; use an API key"
            )
        try:
            return self.keys.check(credential).principal
        except Unauthenticated as exc:
            if credential is None:
                raise RequestRefused(
                    401,
                    "UNAUTHENTICATED",
                    "API key required: send it as x-goog-api-key (or ?key=)",
                ) from None
            raise RequestRefused(403, "PERMISSION_DENIED", exc.reason) from None

    @staticmethod
    def _read_body(body: bytes) -> dict[str, Any]:
        if not body.strip():
            return {}
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _invalid("the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise _invalid("the request body must be a JSON object (an AuthToken)")
        return {
            name: _field(data, name)
            for name in (
                "uses",
                "expireTime",
                "newSessionExpireTime",
                "bidiGenerateContentSetup",
                "fieldMask",
            )
        }

    @staticmethod
    def _uses(value: Any) -> int:
        if value is None:
            return 1
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _invalid("uses must be a whole number, 0 for unlimited")
        return value

    @staticmethod
    def _constraints(
        request: Mapping[str, Any],
    ) -> tuple[dict[str, Any] | None, tuple[str, ...] | None]:
        raw = request.get("bidiGenerateContentSetup")
        setup: dict[str, Any] | None = None
        if raw is not None:
            if not isinstance(raw, dict):
                raise _invalid("bidiGenerateContentSetup must be a BidiGenerateContentSetup object")
            try:
                typed = Setup.model_validate(raw)
                review_setup(typed)
            except ValidationError as exc:
                raise _invalid(f"invalid bidiGenerateContentSetup.{_describe(exc)}") from None
            except InvalidArgument as exc:
                raise _invalid(f"bidiGenerateContentSetup: {exc.reason}") from None
            setup = _wire(raw)
        try:
            mask = parse_field_mask(request.get("fieldMask"))
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        if setup is not None and mask is None and not setup.get("model"):
            raise _invalid(
                "bidiGenerateContentSetup.model is required when there is no fieldMask "
                "(the token's setup is then used whole)"
            )
        return setup, mask

    # ---- Live connections ----

    async def authorize(
        self, credential: Credential | None, route: Route, message: ClientMessage
    ) -> tuple[Grant, ClientMessage]:
        """The grant of a connection's credential and its first message as the session must
        see it (a token's constraints applied). Raises :class:`SessionError` (1008 for
        credentials; 1007 for a setup the constraints make invalid)."""
        if credential is None or not credential.ephemeral:
            return self.keys.check(credential), message
        music = route.method is Method.MUSIC
        if route.method is not Method.LIVE_CONSTRAINED and not music:
            raise PolicyViolation(
                "ephemeral tokens are accepted on the BidiGenerateContentConstrained and "
                "BidiGenerateMusic endpoints only; use one of them, or an API key here"
            )
        name = credential.value
        if not _NAME.fullmatch(name):
            raise Unauthenticated(
                "ephemeral token malformed: expected auth_tokens/ and the id the server issued"
            )
        try:
            stored = await self.store.get(self._key(name))
        except Exception as exc:
            raise ServerFault(f"token store unavailable ({type(exc).__name__}); retry") from exc
        if stored is None:
            raise Unauthenticated(
                "ephemeral token not valid (unknown, or long expired); mint a new one"
            )
        record = TokenRecord.from_json(stored)
        now = self.clock()
        if now >= record.expire_at:
            raise Unauthenticated(
                f"ephemeral token expired at {_rfc3339(record.expire_at)}; mint a new one"
            )
        grant = Grant(
            principal=record.principal,
            token=name,
            constraints=record.setup,
            field_mask=record.field_mask,
            expires_at=record.expire_at,
        )
        if message.setup is None:
            return grant, message  # the connection refuses it: setup comes first
        if music and (record.setup is not None or record.field_mask is not None):
            raise PolicyViolation(
                "this ephemeral token is locked to a Live setup (bidiGenerateContentSetup), "
                "so it cannot start live music; mint one without constraints for music"
            )
        constrained = message if music else self._constrain(message, message.setup, record)
        resumption = message.setup.session_resumption
        if not music and resumption is not None and resumption.handle:
            return grant, constrained  # resuming: not a new session, not counted
        if now >= record.new_session_expire_at:
            raise PolicyViolation(
                "ephemeral token can no longer start sessions (newSessionExpireTime "
                f"{_rfc3339(record.new_session_expire_at)} passed); mint a new one"
            )
        if record.uses > 0:
            try:
                started = await self.store.incr(
                    self._key(name) + ":uses", ttl=record.expire_at - now + _GRACE_SECONDS
                )
            except Exception as exc:
                raise ServerFault(f"token store unavailable ({type(exc).__name__}); retry") from exc
            if started > record.uses:
                raise PolicyViolation(
                    f"ephemeral token used up (it allows {record.uses} session"
                    f"{'s' if record.uses != 1 else ''}); mint a new one"
                )
        return grant, constrained

    @staticmethod
    def _constrain(message: ClientMessage, setup: Setup, record: TokenRecord) -> ClientMessage:
        if record.setup is None and record.field_mask is None:
            return message
        client = setup.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_unset=True)
        try:
            merged = apply_constraints(client, record.setup, record.field_mask)
            return ClientMessage(setup=Setup.model_validate(merged))
        except ValidationError as exc:
            raise InvalidArgument(
                f"setup invalid with the token's constraints: {_describe(exc)}"
            ) from None
