"""openlive's Python SDK."""

from .audio import AudioCollector, pcm_chunks, send_audio
from .client import AsyncLive, Client, Live
from .session import AsyncSession, LiveCallbacks
from .sync import Session

__all__ = [
    "AsyncLive",
    "AsyncSession",
    "AudioCollector",
    "Client",
    "Live",
    "LiveCallbacks",
    "Session",
    "pcm_chunks",
    "send_audio",
]
