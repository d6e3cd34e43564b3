"""The openlive server.

The names load lazily, so that ``openlive.server.config`` (which the CLI reads for its flags)
imports without the server's own dependencies: a plain ``pip install openlive`` has them not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import App, run_server
    from .config import SETTINGS, ServerConfig, load_config

__all__ = ["SETTINGS", "App", "ServerConfig", "load_config", "run_server"]


def __getattr__(name: str) -> Any:
    if name in ("App", "run_server"):
        from . import app

        return getattr(app, name)
    if name in ("SETTINGS", "ServerConfig", "load_config"):
        from . import config

        return getattr(config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
