"""openlive's Python SDK."""

from .audio import AudioCollector, pcm_chunks, send_audio
from .client import AsyncLive, Client, Live
from .frames import NoScreenError, frames, grab_screen, to_image_blob
from .music import (
    AsyncLiveMusic,
    AsyncMusicSession,
    LiveMusic,
    MusicGenerationConfig,
    MusicServerMessage,
    MusicSession,
    WeightedPrompt,
)
from .reconnect import Reconnect, ReconnectFailed, ReconnectInfo
from .session import AsyncSession, LiveCallbacks
from .sync import Session
from .tools import Tools, declaration_from_function, declaration_from_schema

__all__ = [
    "AsyncLive",
    "AsyncLiveMusic",
    "AsyncMusicSession",
    "AsyncSession",
    "AudioCollector",
    "Client",
    "Live",
    "LiveCallbacks",
    "LiveMusic",
    "MusicGenerationConfig",
    "MusicServerMessage",
    "MusicSession",
    "NoScreenError",
    "Reconnect",
    "ReconnectFailed",
    "ReconnectInfo",
    "Session",
    "Tools",
    "WeightedPrompt",
    "declaration_from_function",
    "declaration_from_schema",
    "frames",
    "grab_screen",
    "pcm_chunks",
    "send_audio",
    "to_image_blob",
]
