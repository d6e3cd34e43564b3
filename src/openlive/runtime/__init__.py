"""Per-session runtime: the asyncio stages that feed a session core and carry out its
actions, each session's tasks owned by one :class:`TaskOwner`."""

from .live import LiveRuntime, LiveServices
from .observer import SessionObserver
from .outbox import CloseFrame, Outbox
from .session import SessionRuntime, Transport
from .tasks import TaskOwner
from .voice_in import VoiceIn
from .voice_out import VoiceOut

__all__ = [
    "CloseFrame",
    "LiveRuntime",
    "LiveServices",
    "Outbox",
    "SessionObserver",
    "SessionRuntime",
    "TaskOwner",
    "Transport",
    "VoiceIn",
    "VoiceOut",
]
