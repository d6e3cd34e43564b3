"""The model side of a session: backends, scheduler, model names."""

from .base import Capabilities, LLMBackend
from .echo import EchoBackend
from .registry import ModelRegistry, ResolvedModel, short_model_name
from .remote import RemoteBackend
from .scheduler import Scheduler

__all__ = [
    "Capabilities",
    "EchoBackend",
    "LLMBackend",
    "ModelRegistry",
    "RemoteBackend",
    "ResolvedModel",
    "Scheduler",
    "short_model_name",
]
