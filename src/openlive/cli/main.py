"""``openlive``: serve, chat, models."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__

__all__ = ["main"]


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the Live API server",
        description="Run the Live API server. Settings come from --config, then "
        "OPENLIVE_* environment variables, then these flags.",
    )
    p.add_argument("--config", help="TOML configuration file")
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="plain ws/http port (default 8080; 0 = any)")
    p.add_argument("--tls-port", type=int, help="wss/https port (default 8443; 0 = any)")
    p.add_argument("--no-tls", action="store_true", default=None, help="serve plain ws only")
    p.add_argument("--tls-cert", help="PEM certificate (default: generated for localhost)")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument(
        "--model",
        choices=["embedded", "echo", "remote"],
        help="engine for gemini-* names (default embedded)",
    )
    p.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        default=None,
        help="accepted API key (repeatable)",
    )
    p.add_argument(
        "--insecure-no-auth",
        action="store_true",
        default=None,
        help="allow a non-loopback bind with no API key",
    )
    p.add_argument("--max-frame-bytes", type=int, help="largest client frame (default 16 MiB)")
    p.add_argument("--max-sessions", type=int, help="concurrent session limit (default 16)")
    p.add_argument("--threads", type=int, help="inference threads (default: all cores)")
    p.add_argument("--llm-path", help="local GGUF model for the embedded engine")
    p.add_argument("--n-ctx", type=int, help="embedded context length (0 = model's own)")
    p.add_argument("--remote-url", help="OpenAI-compatible base URL for the remote engine")
    p.add_argument("--remote-model", help="model name for the remote engine")
    p.add_argument("--remote-api-key", help="bearer token for the remote engine")
    p.add_argument(
        "--asr", choices=["embedded", "remote", "off"], help="speech recognition (default embedded)"
    )
    p.add_argument("--asr-url", help="OpenAI-compatible base URL for remote recognition")
    p.add_argument(
        "--tts", choices=["embedded", "remote"], help="speech synthesis (default embedded)"
    )
    p.add_argument("--tts-url", help="OpenAI-compatible base URL for remote synthesis")
    p.add_argument(
        "--binary-frames",
        action="store_true",
        default=None,
        help="send binary instead of text frames",
    )
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])


def _client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url",
        default=None,
        help="server base URL (default $OPENLIVE_BASE_URL or http://127.0.0.1:8080)",
    )
    p.add_argument("--api-key", default=None, help="API key (default $OPENLIVE_API_KEY)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openlive", description="openlive: a self-hosted Live API"
    )
    parser.add_argument("--version", action="version", version=f"openlive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _serve_parser(sub)
    chat = sub.add_parser("chat", help="chat with a server from the terminal")
    _client_args(chat)
    chat.add_argument("--model", default="gemini-live-2.5-flash-preview", help="model name")
    chat.add_argument("--system", default=None, help="system instruction")
    chat.add_argument("--temperature", type=float, default=None)
    talk = sub.add_parser("talk", help="a voice conversation (microphone, or WAV in / WAV out)")
    _client_args(talk)
    talk.add_argument("--model", default="gemini-live-2.5-flash-preview", help="model name")
    talk.add_argument("--input", help="WAV file to say (16-bit PCM, any rate)")
    talk.add_argument("--output", default="answer.wav", help="where to save the spoken reply")
    talk.add_argument("--voice", help="voice name (Puck, Kore, ...)")
    talk.add_argument("--language", help="reply language code (en-US, es-ES, ...)")
    talk.add_argument("--system", help="system instruction")
    talk.add_argument("--text", action="store_true", help="ask for text parts beside the audio")
    talk.add_argument("--fast", action="store_true", help="send the file faster than real time")
    models = sub.add_parser("models", help="list what a server serves")
    _client_args(models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        from .serve import serve_command

        return serve_command(args)
    if args.command == "chat":
        from .chat import chat_command

        return chat_command(args)
    if args.command == "talk":
        from .talk import talk_command

        return talk_command(args)
    if args.command == "models":
        from .chat import models_command

        return models_command(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
