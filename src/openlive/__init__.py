"""openlive: an open, self-hostable implementation of the Live API."""

__version__ = "0.1.0"

from .client import (
    AsyncLive,
    AsyncSession,
    Client,
    Live,
    LiveCallbacks,
    Reconnect,
    ReconnectFailed,
    Session,
)
from .errors import (
    ConfigError,
    EngineError,
    InvalidArgument,
    LiveConnectionClosed,
    ModelNotFound,
    OpenliveError,
    Overloaded,
    PolicyViolation,
    ServerFault,
    SessionError,
    Unauthenticated,
    WeightsError,
)

__all__ = [
    "AsyncLive",
    "AsyncSession",
    "Client",
    "ConfigError",
    "EngineError",
    "InvalidArgument",
    "Live",
    "LiveCallbacks",
    "LiveConnectionClosed",
    "ModelNotFound",
    "OpenliveError",
    "Overloaded",
    "PolicyViolation",
    "Reconnect",
    "ReconnectFailed",
    "ServerFault",
    "Session",
    "SessionError",
    "Unauthenticated",
    "WeightsError",
    "__version__",
]
