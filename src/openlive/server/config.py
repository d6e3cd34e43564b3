"""Server configuration: a TOML file, then ``OPENLIVE_*`` environment variables, then flags.

Each later source overrides the earlier one. Every setting, its environment variable and its
default are listed in ``docs/configuration.md`` (generated from :data:`SETTINGS`).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..models.llm.catalog import DEFAULT_LLM, LLM_CATALOG
from ..session.speech_text import FIRST_PIECE_RULES

__all__ = ["CHOICES", "FLAGLESS", "SETTINGS", "ServerConfig", "add_setting_flags", "load_config"]

SETTINGS: dict[str, str] = {
    "host": "address to bind (a non-loopback address needs api_keys or insecure_no_auth)",
    "port": "plain ws:// and http:// port (0 = any free port)",
    "tls_port": "wss:// and https:// port (0 = any free port)",
    "no_tls": "serve plain ws:// only (the official Python SDK needs wss://)",
    "tls_cert": "PEM certificate; generated for localhost when unset",
    "tls_key": "PEM private key matching tls_cert",
    "model": "engine serving gemini-* names: embedded, echo or remote",
    "api_keys": "accepted API keys (list; env: comma-separated); empty on loopback = any key",
    "insecure_no_auth": "allow a non-loopback bind with no API keys",
    "max_frame_bytes": "largest client frame; bigger frames close the session with 1009",
    "max_sessions": "concurrent sessions before new ones are refused with 1011",
    "max_connections": "open connections (handshakes included) before new ones get HTTP 503",
    "outbox_frames": "server messages queued per session before its stages wait for the client",
    "threads": "inference threads shared by all models (default: all cores)",
    "llm": "embedded language model, by name (python -m openlive.weights --list shows them)",
    "llm_path": "a local GGUF file for the embedded engine (overrides llm)",
    "n_ctx": "embedded context length (0 = what the model was trained with)",
    "max_reply_tokens": "reply length cap when the client sets no maxOutputTokens",
    "remote_url": "OpenAI-compatible base URL for the remote engine (e.g. http://host:8000/v1)",
    "remote_model": "model name sent to the remote engine",
    "remote_api_key": "bearer token for the remote engine",
    "remote_timeout": "seconds to wait for a remote engine (LLM, recognition, synthesis)",
    "remote_context_window": "the remote LLM's context window in tokens (0 = learn it from its "
    "first context-length error; 32768 assumed until then)",
    "echo_delay": "seconds between the echo engine's chunks",
    "echo_context_window": "the echo engine's context window, in words",
    "asr": "speech recognition: embedded (Whisper base), remote, or off (audio is only counted)",
    "asr_url": "OpenAI-compatible base URL for remote speech recognition",
    "asr_model": "model name sent to remote speech recognition",
    "tts": "speech synthesis: embedded (Piper + espeak-ng) or remote",
    "tts_url": "OpenAI-compatible base URL for remote speech synthesis",
    "tts_model": "model name sent to remote speech synthesis",
    "tts_voice": "voice name sent to remote speech synthesis",
    "end_of_turn": "how a spoken turn ends: semantic (an end-of-turn model, unless a client sets "
    "silenceDurationMs) or silence (a fixed silence)",
    "audio_lead_ms": "how far ahead of real-time playback reply audio is sent",
    "audio_chunk_ms": "duration of each reply audio chunk",
    "first_piece": "where the first spoken piece of a reply ends: clause (a comma or phrase "
    "boundary after 3 to 6 words), words (after 4 words) or sentence (its first sentence)",
    "vision": "how images and video frames are read for an engine that sees no pixels: embedded "
    "(text and scene facts from the embedded OCR stage) or off (only named)",
    "max_frames": "image frames a session holds between turns (older ones are dropped)",
    "max_frame_mb": "largest image frame accepted, in MiB (larger ones close the session 1007)",
    "binary_frames": "send server messages as binary frames instead of text",
    "setup_timeout": "seconds a client has to send setup after connecting",
    "tool_timeout": "seconds a function call waits for its toolResponse before it is cancelled",
    "store": "shared state: memory:// (one node) or redis://HOST:PORT/DB (several nodes)",
    "resumption_ttl": "seconds a session stays resumable after its last connection ends",
    "handle_grace": "seconds a resumption handle keeps working after a newer one is issued "
    "(for an update lost in flight; 0 = none)",
    "max_connection_seconds": "each connection ends after this many seconds, with goAway first "
    "(0 = unlimited); the session stays resumable",
    "goaway_notice_seconds": "goAway is sent this long before a connection's end (at most half "
    "its lifetime)",
    "drain_seconds": "on SIGTERM: how long turns in progress may take to finish before exit",
    "max_sessions_per_key": "concurrent sessions per API key on this node (0 = no limit)",
    "idle_timeout": "seconds without a client message before an idle session is closed (0 = never)",
    "max_session_seconds": "total lifetime of a session across its connections (0 = unlimited)",
    "token_rate": "ephemeral tokens one API key may create per minute (0 = no limit)",
    "faults": "fault injection applied to every session (see docs/faults.md), e.g. "
    "goaway_after=30,stall=2",
    "models": "model map: name -> engine (TOML table; env: name=engine,name=engine)",
    "log_level": "debug, info, warning or error",
    "log_format": "text (one line per record) or json (one JSON object per line, with the "
    "session id)",
}


CHOICES: dict[str, tuple[str, ...]] = {
    "model": ("embedded", "echo", "remote"),
    "llm": tuple(LLM_CATALOG),
    "asr": ("embedded", "remote", "off"),
    "tts": ("embedded", "remote"),
    "end_of_turn": ("semantic", "silence"),
    "vision": ("embedded", "off"),
    "first_piece": FIRST_PIECE_RULES,
    "log_level": ("debug", "info", "warning", "error"),
    "log_format": ("text", "json"),
}
FLAGLESS = {"models"}
"""Settings with no command-line flag (a table: set them in the file or the environment)."""


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    tls_port: int = 8443
    no_tls: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    model: str = "embedded"
    api_keys: list[str] = field(default_factory=list)
    insecure_no_auth: bool = False
    max_frame_bytes: int = 16 * 1024 * 1024
    max_sessions: int = 16
    max_connections: int = 64
    outbox_frames: int = 256
    threads: int = 0
    llm: str = DEFAULT_LLM
    llm_path: str | None = None
    n_ctx: int = 0
    max_reply_tokens: int = 1024
    remote_url: str | None = None
    remote_model: str = "default"
    remote_api_key: str | None = None
    remote_timeout: float = 60.0
    remote_context_window: int = 0
    echo_delay: float = 0.02
    echo_context_window: int = 4096
    asr: str = "embedded"
    asr_url: str | None = None
    asr_model: str = "whisper-1"
    tts: str = "embedded"
    tts_url: str | None = None
    tts_model: str = "tts-1"
    tts_voice: str = "alloy"
    end_of_turn: str = "semantic"
    audio_lead_ms: int = 250
    audio_chunk_ms: int = 100
    first_piece: str = "clause"
    vision: str = "embedded"
    max_frames: int = 4
    max_frame_mb: float = 10.0
    binary_frames: bool = False
    setup_timeout: float = 30.0
    tool_timeout: float = 60.0
    store: str = "memory://"
    resumption_ttl: float = 7200.0
    handle_grace: float = 10.0
    max_connection_seconds: float = 0.0
    goaway_notice_seconds: float = 10.0
    drain_seconds: float = 30.0
    max_sessions_per_key: int = 0
    idle_timeout: float = 0.0
    max_session_seconds: float = 0.0
    token_rate: int = 60
    faults: str = ""
    models: dict[str, str] = field(default_factory=dict)
    log_level: str = "info"
    log_format: str = "text"

    def validate(self) -> None:
        if self.model not in ("embedded", "echo", "remote"):
            raise ConfigError(f"model must be embedded, echo or remote, not {self.model!r}")
        if self.model == "remote" and not self.remote_url:
            raise ConfigError(
                "model = remote needs remote_url (OPENLIVE_REMOTE_URL / --remote-url)"
            )
        if self.asr not in ("embedded", "remote", "off"):
            raise ConfigError("asr must be embedded, remote or off")
        if self.end_of_turn not in ("semantic", "silence"):
            raise ConfigError("end_of_turn must be semantic or silence")
        if self.tts not in ("embedded", "remote"):
            raise ConfigError("tts must be embedded or remote")
        for stage in ("asr", "tts"):
            if getattr(self, stage) == "remote" and not getattr(self, f"{stage}_url"):
                raise ConfigError(f"{stage} = remote needs {stage}_url")
        for name in ("remote_url", "asr_url", "tts_url"):
            url = getattr(self, name)
            if url and not (url.startswith(("http://", "https://")) and urlsplit(url).hostname):
                raise ConfigError(f"{name} must be an http:// or https:// URL, not {url!r}")
        if self.vision not in ("embedded", "off"):
            raise ConfigError("vision must be embedded or off")
        if self.max_frames < 1:
            raise ConfigError("max_frames must be at least 1")
        if not 0 < self.max_frame_mb <= 64:
            raise ConfigError("max_frame_mb must be between 0 and 64")
        if self.first_piece not in FIRST_PIECE_RULES:
            raise ConfigError(f"first_piece must be one of {', '.join(FIRST_PIECE_RULES)}")
        if not 20 <= self.audio_chunk_ms <= 500:
            raise ConfigError("audio_chunk_ms must be between 20 and 500")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("tls_cert and tls_key must be given together")
        if self.max_connections < self.max_sessions:
            raise ConfigError("max_connections must be at least max_sessions")
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"log_format must be text or json, not {self.log_format!r}")
        if self.outbox_frames < 8:
            raise ConfigError("outbox_frames must be at least 8")
        if self.max_frame_bytes < 1024:
            raise ConfigError("max_frame_bytes must be at least 1024")
        if not self.store.startswith(("memory:", "redis://", "rediss://", "unix://")):
            raise ConfigError(
                f"store must be memory:// or redis://HOST:PORT/DB, not {self.store!r}"
            )
        for name in (
            "resumption_ttl",
            "handle_grace",
            "max_connection_seconds",
            "goaway_notice_seconds",
            "drain_seconds",
            "idle_timeout",
            "max_session_seconds",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if self.resumption_ttl < 1:
            raise ConfigError("resumption_ttl must be at least 1 second")
        if self.max_sessions_per_key < 0 or self.token_rate < 0:
            raise ConfigError("max_sessions_per_key and token_rate must not be negative")
        if self.remote_context_window < 0 or self.echo_context_window < 1:
            raise ConfigError(
                "remote_context_window must not be negative, echo_context_window must be positive"
            )
        if not self.is_loopback() and not self.api_keys and not self.insecure_no_auth:
            raise ConfigError(
                f"refusing to listen on {self.host} with no API key: pass --api-key KEY "
                "(repeatable) or --insecure-no-auth"
            )

    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: f.type for f in fields(ServerConfig)}
    kind = str(kinds[name])
    try:
        if isinstance(value, str):
            if kind == "int":
                return int(value)
            if kind == "float":
                return float(value)
            if kind == "bool":
                if value.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes", "on")
            if kind.startswith("list"):
                return [v.strip() for v in value.split(",") if v.strip()]
            if kind.startswith("dict"):
                pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
                return {k.strip(): v.strip() for k, v in pairs}
        return value
    except ValueError:
        raise ConfigError(f"setting {name}: cannot read {value!r} as {kind}") from None


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """Merge file < environment < flags into a validated :class:`ServerConfig`."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = path or env.get("OPENLIVE_CONFIG")
    if path:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        section = data.get("server", data)
        for key, value in section.items():
            key = key.replace("-", "_")
            if key not in SETTINGS:
                raise ConfigError(f"config file {path}: unknown setting {key!r}")
            values[key] = value
        if "models" in data and "server" in data:
            values["models"] = data["models"]
    for name in SETTINGS:
        raw = env.get(f"OPENLIVE_{name.upper()}")
        if raw is not None and raw != "":
            values[name] = raw
    for name, value in (flags or {}).items():
        if value is not None and value != [] and name in SETTINGS:
            values[name] = value
    config = ServerConfig(**{k: _coerce(k, v) for k, v in values.items()})
    config.validate()
    return config


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting (``--max-sessions`` for ``max_sessions``), typed from
    :class:`ServerConfig` and described by :data:`SETTINGS`; unset flags stay ``None`` so the
    file and the environment keep their say."""
    for f in fields(ServerConfig):
        if f.name in FLAGLESS:
            continue
        kind = str(f.type)
        default = f.default if f.default is not MISSING else None
        shown = f" (default {default})" if default not in (None, "", False) else ""
        help_text = SETTINGS[f.name] + shown
        flag = "--" + f.name.replace("_", "-")
        if kind == "bool":
            parser.add_argument(flag, action="store_true", default=None, help=help_text)
        elif kind.startswith("list"):
            parser.add_argument(
                "--api-key", action="append", dest=f.name, default=None, help=help_text
            )
        else:
            convert = {"int": int, "float": float}.get(kind.split(" ")[0], str)
            parser.add_argument(
                flag, type=convert, choices=CHOICES.get(f.name), default=None, help=help_text
            )
