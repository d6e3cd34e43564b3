"""Server logging: the session id on every record, as text or as one JSON object per line.

A connection sets :data:`SESSION_ID` in its task once it has named its session. Every task the
session's runtime starts copies that context when it is created, so whatever is logged on
behalf of a session, by any module, carries its id: :class:`SessionFilter` (installed on the
handler) copies it into ``record.session``, and :class:`JsonFormatter` writes it out.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

__all__ = [
    "LOG_FORMATS",
    "SESSION_ID",
    "TEXT_FORMAT",
    "JsonFormatter",
    "SessionFilter",
    "configure_logging",
    "log_handler",
]

SESSION_ID: ContextVar[str | None] = ContextVar("openlive_session_id", default=None)
"""The id of the session the running task serves (``None`` outside a session)."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FORMATS = ("text", "json")


class SessionFilter(logging.Filter):
    """Adds ``record.session``: the session being served where the record was made (a record
    that already names one, through ``extra={"session": ...}``, keeps it). Lets every record
    through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "session", None) is None:
            record.session = SESSION_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``session`` (``null`` outside a session), ``message``, and ``exc_info`` / ``stack_info``
    (formatted tracebacks) when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        session = getattr(record, "session", None)
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "session": session if session is not None else SESSION_ID.get(),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_handler(log_format: str = "text", stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stderr by default) that writes ``log_format`` (``text`` or
    ``json``) with the session id on every record."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be text or json, not {log_format!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SessionFilter())
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    return handler


def configure_logging(
    level: str = "info", log_format: str = "text", stream: TextIO | None = None
) -> None:
    """Set up the root logger for ``openlive serve`` (replacing handlers it had)."""
    logging.basicConfig(level=level.upper(), handlers=[log_handler(log_format, stream)], force=True)
