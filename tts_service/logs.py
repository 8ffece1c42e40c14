"""Structured logs: one JSON object per line, each stamped with the id of the request it belongs to."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
import re
import secrets
from contextvars import ContextVar
from typing import Any

# Set per request by the web middleware. Tasks started while handling a request (generation jobs) copy
# the context, so their log lines carry the id of the request that started them.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# Short and plain: an incoming id ends up in every log line and in a response header, so anything that
# could split a line, forge a field or bloat the logs is replaced by an id of our own.
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ACCESS_LOGGER = "tts_service.access"  # one line per request, from the web middleware
# One encoder for every line: json.dumps with options builds a new one each call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged as a field.
# ``color_message`` is uvicorn's copy of its message with terminal colour codes.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "request_id",
    "color_message",
}


def request_id(incoming: str | None = None) -> str:
    """The id for a new request: the caller's X-Request-ID if it is well-formed, else 32 random hex digits
    (as a uuid4's hex, at a third of the cost: it is made for every request)."""
    if incoming is not None and _VALID_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(16)


class RequestIdFilter(logging.Filter):
    """Stamps ``request_id`` (None outside a request) on every record a handler sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # default=str: a field that JSON cannot hold is logged as its text rather than losing the line.
        return _ENCODE(entry)


def uvicorn_log_config(level: str = "INFO", *, access: bool = True) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict: JSON lines on stderr for our loggers and uvicorn's.

    Pass it to ``uvicorn.run(log_config=...)`` with ``access_log=False``: the service's own middleware
    writes the access log, with the route, the duration and the request id; ``access=False`` turns that
    off (TTS_ACCESS_LOG=0) and leaves every other line as it is.
    """
    return {
        "version": 1,
        # Modules create their loggers at import time; the default (True) would silence all of them.
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # uvicorn's loggers bring handlers of their own; clear them so each line is written once, as JSON.
        "loggers": {
            **{
                name: {"level": level.upper(), "handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            # Its lines are INFO: at WARNING there are none (errors are logged where they happen).
            ACCESS_LOGGER: {"level": level.upper() if access else "WARNING", "propagate": True},
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """Send all logging to stderr as JSON lines (for commands that run without uvicorn)."""
    logging.config.dictConfig(uvicorn_log_config(level))
