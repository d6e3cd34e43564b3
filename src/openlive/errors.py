"""openlive's one exception tree.

::

    OpenliveError
    ├── ConfigError                  bad configuration (server refuses to start)
    ├── WeightsError                 embedded weights missing or corrupt
    ├── SessionError                 ends a session; carries a WebSocket close code and reason
    │   ├── InvalidArgument      1007: malformed or unsupported input
    │   ├── PolicyViolation          1008: bad credentials, unknown model, policy
    │   │   ├── Unauthenticated
    │   │   └── ModelNotFound
    │   └── ServerFault              1011: the server or its engine failed
    │       └── Overloaded           1011: no capacity for a new session (retry later)
    ├── EngineError                  a model backend failed (becomes ServerFault)
    │   └── ContextOverflow          the prompt does not fit the model's context window
    ├── RequestRefused               an HTTP request (REST) is refused: status and Google status
    └── LiveConnectionClosed         SDK: the server closed the session (.code, .reason)

Server-side errors are translated to close frames at the connection boundary; a reason is at most
123 bytes (the WebSocket limit), so every reason is written to be short and actionable.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ContextOverflow",
    "EngineError",
    "InvalidArgument",
    "LiveConnectionClosed",
    "ModelNotFound",
    "OpenliveError",
    "Overloaded",
    "PolicyViolation",
    "RequestRefused",
    "ServerFault",
    "SessionError",
    "Unauthenticated",
    "WeightsError",
    "clip_reason",
]

MAX_REASON_BYTES = 123


def clip_reason(reason: str) -> str:
    """Shorten ``reason`` to fit a close frame (123 UTF-8 bytes), marking the cut."""
    raw = reason.encode()
    if len(raw) <= MAX_REASON_BYTES:
        return reason
    cut = raw[: MAX_REASON_BYTES - 3].decode(errors="ignore")
    return cut + "..."


class OpenliveError(Exception):
    """Base of every error openlive raises on purpose."""


class ConfigError(OpenliveError):
    """The configuration cannot be used; the message says which setting and why."""


class WeightsError(OpenliveError):
    """Embedded model weights are missing, incomplete or fail their checksum."""


class EngineError(OpenliveError):
    """A model backend failed while serving a request."""


class ContextOverflow(EngineError):
    """The prompt (``prompt_tokens``) does not fit the model's context window
    (``context_window`` tokens, 0 when the engine does not know it), with room for a reply.
    Raised before anything is generated; the session core then drops older turns and tries
    again (with ``contextWindowCompression``) or ends the session with a reason saying so."""

    def __init__(self, prompt_tokens: int, context_window: int, detail: str = "") -> None:
        window = f"the {context_window}-token context window" if context_window else "the context"
        super().__init__(
            detail or f"a prompt of {prompt_tokens} tokens does not fit {window} with a reply"
        )
        self.prompt_tokens = prompt_tokens
        self.context_window = context_window


class SessionError(OpenliveError):
    """An error that ends a Live session with a close code and a human-readable reason."""

    code: int = 1011

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = clip_reason(reason)


class InvalidArgument(SessionError):
    """The client sent something malformed or not supported (close 1007)."""

    code = 1007


class PolicyViolation(SessionError):
    """Credentials, model or policy forbid the session (close 1008)."""

    code = 1008


class Unauthenticated(PolicyViolation):
    """Missing or unknown API key."""


class ModelNotFound(PolicyViolation):
    """The requested model is not served here."""


class ServerFault(SessionError):
    """The server or one of its models failed (close 1011)."""

    code = 1011


class Overloaded(ServerFault):
    """The server has no capacity for another session right now."""


class RequestRefused(OpenliveError):
    """An HTTP request (the REST endpoints) is refused: answered with ``status`` and a
    Google-style error body ``{"error": {"code", "message", "status"}}``."""

    def __init__(self, status: int, status_name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.status_name = status_name
        self.message = message


class LiveConnectionClosed(OpenliveError):
    """Raised by the SDK when the server closes the session; ``code`` and ``reason`` say why."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}".strip())
        self.code = code
        self.reason = reason
