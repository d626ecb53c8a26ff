"""The converter's per-client rate limit on /api/v1, as its README describes it.

``SANDBOX_RATE_LIMIT`` requests per ``SANDBOX_RATE_WINDOW_SECONDS`` (300 per 5 minutes,
0 turns it off), counted in fixed windows per process like the real one (its
"Phase 2" would move them to Redis). Every answer carries ``X-RateLimit-Limit`` /
``RateLimit-Limit`` and ``X-RateLimit-Remaining`` / ``RateLimit-Remaining``; past the
limit: 429 ``rate_limit_exceeded`` with ``Retry-After``. The stand-in also counts
what it answered, for the benchmarks (``_inspect/stats``).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sandbox.http import error, json_answer

_lock = threading.Lock()
_Args = ParamSpec("_Args")


@dataclass
class _Window:
    start: float = 0.0
    count: int = 0


_window = _Window()
stats: Counter[str] = Counter()


def _take(now: float, limit: int, window: float) -> tuple[bool, int, float]:
    with _lock:
        if now - _window.start >= window:
            _window.start, _window.count = now, 0
        reset = _window.start + window - now
        if _window.count >= limit:
            return False, 0, reset
        _window.count += 1
        return True, limit - _window.count, reset


def limited(
    view: Callable[Concatenate[HttpRequest, _Args], HttpResponse],
) -> Callable[Concatenate[HttpRequest, _Args], HttpResponse]:
    """Counts the request against the client's budget; answers 429 past it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: _Args.args, **kwargs: _Args.kwargs) -> HttpResponse:
        limit = settings.SANDBOX_RATE_LIMIT
        stats[f"{request.method} {view.__name__}"] += 1
        if not limit:
            return view(request, *args, **kwargs)
        allowed, remaining, reset = _take(
            time.time(), limit, float(settings.SANDBOX_RATE_WINDOW_SECONDS)
        )
        if allowed:
            response = view(request, *args, **kwargs)
        else:
            stats["rate_limited"] += 1
            response = error(
                request,
                429,
                "rate_limit_exceeded",
                "Too many requests; slow down.",
                Retry_After=str(max(1, math.ceil(reset))),
            )
        for prefix in ("X-RateLimit", "RateLimit"):
            response[f"{prefix}-Limit"] = str(limit)
            response[f"{prefix}-Remaining"] = str(remaining)
        return response

    return wrapper


def stats_view(request: HttpRequest) -> HttpResponse:
    """Sandbox only, no token: what the stand-in answered since it started."""
    with _lock:
        return json_answer({"counts": dict(stats), "job_gets": stats["GET job_detail"]})


def reset() -> None:
    """Tests: a new window and no counts."""
    with _lock:
        _window.start, _window.count = 0.0, 0
        stats.clear()
