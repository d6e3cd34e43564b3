"""``openlive``: serve, chat, talk, music, models."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..server.config import add_setting_flags

__all__ = ["main"]

EMBEDDED_HINT = "pip install 'openlive[embedded]' (or run scripts/install.sh)"


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the Live API server",
        description="Run the Live API server. Settings come from --config, then "
        "OPENLIVE_* environment variables, then these flags.",
    )
    p.add_argument("--config", help="TOML configuration file")
    add_setting_flags(p)


def _client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url",
        default=None,
        help="server base URL (default $OPENLIVE_BASE_URL or http://127.0.0.1:8080)",
    )
    p.add_argument("--api-key", default=None, help="API key (default $OPENLIVE_API_KEY)")


def _music_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "music",
        help="render live music to a WAV file (and the speaker)",
        description="Steer a live music session by prompts and settings and save what it plays "
        "as a 48 kHz stereo WAV, playing it on the speaker where there is one.",
    )
    _client_args(p)
    p.add_argument("text", help='what to play, e.g. "lo-fi hip hop piano" (weight 1)')
    p.add_argument(
        "--prompt",
        action="append",
        default=[],
        metavar="TEXT:WEIGHT",
        help='another weighted prompt, e.g. "ambient strings:0.5"; repeat for several',
    )
    p.add_argument("--bpm", type=int, help="tempo in beats a minute (60-200)")
    p.add_argument("--scale", help="scale, e.g. C_MAJOR_A_MINOR, D_MAJOR_B_MINOR")
    p.add_argument("--density", type=float, help="note density, 0-1")
    p.add_argument("--brightness", type=float, help="brightness, 0-1")
    p.add_argument("--seed", type=int, help="seed, for repeatable music")
    p.add_argument("--seconds", type=float, default=30.0, help="how long to render (default 30)")
    p.add_argument("--output", default="music.wav", help="WAV file to write (default music.wav)")
    p.add_argument(
        "--model", default="models/lyria-realtime-exp", help="music model (default %(default)s)"
    )
    p.add_argument("--no-play", action="store_true", help="do not play on the speaker")


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
    chat.add_argument(
        "--tools", default=None, help="a Python file whose public functions the model may call"
    )
    chat.add_argument(
        "--image",
        action="append",
        default=None,
        metavar="PATH",
        help="an image (JPEG, PNG or WebP) sent with the first question; repeat for several",
    )
    chat.add_argument(
        "question", nargs="?", default=None, help="ask this and exit (default: a chat)"
    )
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
    talk.add_argument(
        "--screen",
        nargs="?",
        type=float,
        const=1.0,
        default=None,
        metavar="FPS",
        help="share the screen beside the voice, FPS frames a second (default 1)",
    )
    _music_parser(sub)
    models = sub.add_parser("models", help="list what a server serves")
    _client_args(models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            from .serve import serve_command
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.partition(".")[0] == "openlive":
                raise
            print(
                f"openlive serve: {exc.name} is not installed; the server needs the embedded "
                f"extra: {EMBEDDED_HINT}",
                file=sys.stderr,
            )
            return 2
        return serve_command(args)
    if args.command == "chat":
        from .chat import chat_command

        return chat_command(args)
    if args.command == "talk":
        from .talk import talk_command

        return talk_command(args)
    if args.command == "music":
        from .music import music_command

        return music_command(args)
    if args.command == "models":
        from .chat import models_command

        return models_command(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
