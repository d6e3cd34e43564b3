"""Language-model backends: embedded (llama.cpp), remote (OpenAI-compatible), echo."""

from .base import LLMBackend
from .echo import EchoBackend
from .remote import RemoteBackend

__all__ = ["EchoBackend", "LLMBackend", "RemoteBackend"]
