"""Shared compute: the models every session uses (LLM backends, speech models), loaded once
per process and run on the scheduler's threads, and the model-name registry."""

from .llm.base import LLMBackend
from .llm.echo import EchoBackend
from .llm.remote import RemoteBackend
from .registry import ModelRegistry, ResolvedModel, short_model_name
from .scheduler import Scheduler

__all__ = [
    "EchoBackend",
    "LLMBackend",
    "ModelRegistry",
    "RemoteBackend",
    "ResolvedModel",
    "Scheduler",
    "short_model_name",
]
