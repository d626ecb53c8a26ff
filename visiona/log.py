"""Request-scoped log context and the JSON log format used in production."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

# Set by RequestIdMiddleware for the duration of one request (per thread).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


# Query parameters whose values are secrets: a delegated download token, OAuth
# codes and tokens. Every line is masked, whoever wrote it: runserver logs the
# request line of each 4xx, query string included (a refused FAA download in
# development), and Django's 5xx lines carry the request with its query.
_SECRET_QUERY_VALUE = re.compile(
    r"([?&](?:access_token|id_token|refresh_token|client_secret|code)=)[^&\s\"'#<>]+",
    re.IGNORECASE,
)


# Bearer credentials wherever they appear: an Authorization header quoted in a line,
# or a personal API token (vap_) or device token (vad_) by its prefix.
_BEARER_VALUE = re.compile(r"(\bBearer\s+)[^\s\"',;]+", re.IGNORECASE)
_PREFIXED_TOKEN = re.compile(r"\b(va[pd]_)[A-Za-z0-9_-]{6,}")


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters and bearer tokens replaced."""
    text = _SECRET_QUERY_VALUE.sub(r"\1[redacted]", text)
    text = _BEARER_VALUE.sub(r"\1[redacted]", text)
    return _PREFIXED_TOKEN.sub(r"\1[redacted]", text)


def current_request_id() -> str:
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def extra_fields(record: logging.LogRecord) -> dict:
    """The fields a caller passed with ``extra={...}``, in their order."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRS and not key.startswith("_")
    }


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
        payload.update(extra_fields(record))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(payload, default=str, ensure_ascii=False))


# runserver's own extra: its time is already the line's. Objects (Django's request, a
# socket) are left out too: the text line shows plain values only; None is left out.
_NOT_IN_TEXT = {"server_time"}


class TextFormatter(logging.Formatter):
    """The development format, masked like the JSON one. The ``extra={...}`` fields
    follow the message as ``key=value`` (a value with spaces or quotes quoted), so
    "upstream call" shows its endpoint, job id, status, attempt and duration."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = " ".join(
            f"{key}={_text_value(value)}"
            for key, value in extra_fields(record).items()
            if isinstance(value, str | int | float) and key not in _NOT_IN_TEXT
        )
        return f"{line} {fields}" if fields else line

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _text_value(value) -> str:
    text = str(value)
    if not text or any(char.isspace() or char in "\"'=" for char in text):
        return json.dumps(text, ensure_ascii=False)
    return text


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
