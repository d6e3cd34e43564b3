"""openlive's Python SDK."""

from .client import AsyncLive, Client, Live
from .session import AsyncSession, LiveCallbacks
from .sync import Session

__all__ = ["AsyncLive", "AsyncSession", "Client", "Live", "LiveCallbacks", "Session"]
