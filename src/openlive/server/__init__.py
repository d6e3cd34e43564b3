"""The openlive server."""

from .app import App, run_server
from .config import SETTINGS, ServerConfig, load_config

__all__ = ["SETTINGS", "App", "ServerConfig", "load_config", "run_server"]
