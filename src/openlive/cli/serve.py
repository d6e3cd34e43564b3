"""``openlive serve``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from ..errors import ConfigError, OpenliveError
from ..server import App, load_config, run_server
from ..server.logs import configure_logging

__all__ = ["serve_command"]


def serve_command(args: argparse.Namespace) -> int:
    flags = {k: v for k, v in vars(args).items() if k not in ("command", "config")}
    try:
        config = load_config(args.config, flags=flags)
    except ConfigError as exc:
        print(f"openlive: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_level, config.log_format, sys.stderr)
    if config.log_level != "debug":  # one line per HTTP request and connection is noise
        logging.getLogger("websockets").setLevel(logging.WARNING)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def ready(app: App, urls: list[str]) -> None:
        say(f"openlive: serving the Live API on {', '.join(urls)}")
        for row in app.registry.listing():
            extra = " (default)" if row.get("default") else ""
            state = ""
            if row.get("loading"):
                state = " - loading in the background; sessions wait for it"
            say(f"openlive:   {row['name']} -> {row['engine']}{extra}{state}")
        voice = app.voice.describe()
        when = "loading in the background" if voice["loading"] else "loads on first use"
        say(f"openlive:   voice: recognition {voice['asr']}, synthesis {voice['tts']} ({when})")
        if app.tls_cert is not None:
            say(f"openlive: TLS certificate {app.tls_cert}")
            say(f"openlive:   Python SDK: export SSL_CERT_FILE={app.tls_cert}")
            say(f"openlive:   Node:       export NODE_EXTRA_CA_CERTS={app.tls_cert}")
        pages = " and ".join(f"{_browsable(url)}/" for url in urls)
        say(f"openlive: web console at {pages} (open it in a browser)")
        say(f"openlive: health at {urls[0]}/healthz; Ctrl-C stops")

    try:
        asyncio.run(run_server(config, ready))
    except OpenliveError as exc:
        print(f"openlive: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"openlive: cannot listen: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _browsable(url: str) -> str:
    """The URL a browser on this machine opens for a listener bound to every address
    (microphones need a secure context: ``localhost`` counts as one over plain HTTP)."""
    for wildcard in ("0.0.0.0", "[::]"):
        url = url.replace(f"//{wildcard}:", "//localhost:")
    return url
