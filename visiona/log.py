"""Request-scoped log context and the JSON log format used in production."""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

# Set by RequestIdMiddleware for the duration of one request (per thread).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


def current_request_id() -> str:
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={...}`` fields become top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


# Django logs these to django.security.<name> at ERROR, with a traceback, when it
# cannot read a request (visiona.errors.request_parse_error answers them with a 4xx).
_UNREADABLE_REQUESTS = {
    "TooManyFieldsSent",
    "TooManyFilesSent",
    "RequestDataTooBig",
    "SuspiciousMultipartForm",
}


class UnreadableRequestFilter(logging.Filter):
    """Anyone can send a request Django cannot read, so it is one WARNING line, not
    an ERROR with a traceback that a client could flood the error log with."""

    def filter(self, record: logging.LogRecord) -> bool:
        parent, _, name = record.name.rpartition(".")
        if parent == "django.security" and name in _UNREADABLE_REQUESTS:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True
