"""The converter's request budget, shared by every worker and instance of visionA.

The converter allows one client (all of visionA) ``limit`` requests per ``window``
seconds on ``/api/v1`` (300 per 5 minutes), and answers 429 past it. Every call
takes a slot in one sliding-window log: a Redis sorted set when the cache is Redis
(every worker and instance), a list in this process on the embedded defaults.

Two priorities. A user's own actions (an upload, a promote, a cancel, the recovery
list) may use the whole budget; background refreshes of a job someone watches only what
``CONVERTER_BUDGET_RESERVE_PERCENT`` leaves of it, so they never starve the user. The converter's
``X-RateLimit-Limit`` replaces the configured limit, and its ``X-RateLimit-Remaining``
is believed when it says less than our own count (another process, a restart); a 429
stops background calls for its ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

USER = "user"
BACKGROUND = "background"
# Slots kept free of our own count: the converter's clock and ours differ a little.
SAFETY_SLOTS = 2

_LOG_KEY = "conversion:budget:log"
_LIMIT_KEY = "conversion:budget:limit"
_BLOCKED_KEY = "conversion:budget:blocked-until"

# KEYS: log. ARGV: now, window, allowed, member. The log's entries are call times.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local used = redis.call('ZCARD', KEYS[1])
if used >= tonumber(ARGV[3]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return used + 1
"""
# KEYS: log. ARGV: now, window, used upstream. Pads our log up to the converter's count.
_SYNC = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local used = redis.call('ZCARD', KEYS[1])
local missing = tonumber(ARGV[3]) - used
for i = 1, math.min(missing, 1000) do
  redis.call('ZADD', KEYS[1], ARGV[1], 'upstream:' .. ARGV[1] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return used
"""
_USED = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
"""


@dataclass(frozen=True)
class Limits:
    limit: int
    window: float

    def allowed(self, priority: str) -> int:
        usable = max(1, self.limit - SAFETY_SLOTS)
        if priority == USER:
            return usable
        return max(1, int(usable * (100 - settings.CONVERTER_BUDGET_RESERVE_PERCENT) / 100))


# The published limit, read from the cache at most this often per process.
_LIMIT_MEMO_SECONDS = 5.0
_memo: dict[str, tuple[float, object]] = {}


def _published_limit() -> object:
    now = time.monotonic()
    memo = _memo.get("limit")
    if memo is None or now - memo[0] > _LIMIT_MEMO_SECONDS:
        memo = _memo["limit"] = (now, cache.get(_LIMIT_KEY))
    return memo[1]


def limits() -> Limits:
    published = _published_limit()
    limit = settings.CONVERTER_RATE_LIMIT
    if isinstance(published, int) and published > 0:
        limit = min(limit, published)
    return Limits(limit=limit, window=float(settings.CONVERTER_RATE_WINDOW_SECONDS))


def take(priority: str) -> bool:
    """One slot for a converter request now, or False when ``priority``'s share is used."""
    now = time.time()
    if priority == BACKGROUND:
        blocked_until = cache.get(_BLOCKED_KEY)
        if blocked_until is not None and now < blocked_until:
            return False
    current = limits()
    return _store().take(now, current.window, current.allowed(priority)) >= 0


def retry_after_seconds() -> int:
    """When to try again after a refusal: the 429's wait, or one slot's share of the window."""
    blocked_until = cache.get(_BLOCKED_KEY)
    if blocked_until is not None and blocked_until > time.time():
        return max(1, math.ceil(blocked_until - time.time()))
    current = limits()
    return max(1, math.ceil(current.window / current.limit))


def used() -> int:
    return _store().used(time.time(), limits().window)


def background_share() -> int:
    """Requests per window that background refreshes may make."""
    return limits().allowed(BACKGROUND)


def observe(status: int, headers: Mapping[str, str]) -> None:
    """Learn from a converter answer: its published limit, what it says is left, a 429."""
    limit = _header_int(headers, "X-RateLimit-Limit", "RateLimit-Limit")
    remaining = _header_int(headers, "X-RateLimit-Remaining", "RateLimit-Remaining")
    if limit is not None and limit > 0 and _published_limit() != limit:
        cache.set(_LIMIT_KEY, limit, timeout=None)
        _memo.pop("limit", None)
    current = limits()
    if limit is not None and remaining is not None:
        _store().sync(time.time(), current.window, max(0, min(limit, current.limit) - remaining))
    if status == 429:
        retry = _header_int(headers, "Retry-After") or 30
        cache.set(_BLOCKED_KEY, time.time() + retry, timeout=max(1, retry))


def _header_int(headers: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None and str(value).strip().isdigit():
            return int(str(value).strip())
    return None


# --- Where the log lives -------------------------------------------------------


class _RedisLog:
    def __init__(self, client, key: str) -> None:
        self._client, self._key = client, key
        self._take = client.register_script(_TAKE)
        self._sync = client.register_script(_SYNC)
        self._used = client.register_script(_USED)

    def take(self, now: float, window: float, allowed: int) -> int:
        member = f"{now:.6f}:{uuid.uuid4().hex[:8]}"
        return int(self._take(keys=[self._key], args=[now, window, allowed, member]))

    def sync(self, now: float, window: float, used_upstream: int) -> None:
        self._sync(keys=[self._key], args=[now, window, used_upstream])

    def used(self, now: float, window: float) -> int:
        return int(self._used(keys=[self._key], args=[now, window]))


class _LocalLog:
    """The embedded default (no Redis): one process is the whole deployment. The
    log lives in the local-memory cache (so clearing the cache forgets it), and a
    lock makes each step atomic within the process."""

    _lock = threading.Lock()

    def _times(self, now: float, window: float) -> list[float]:
        return [t for t in cache.get(_LOG_KEY, []) if t > now - window]

    def take(self, now: float, window: float, allowed: int) -> int:
        with self._lock:
            times = self._times(now, window)
            if len(times) >= allowed:
                return -1
            cache.set(_LOG_KEY, [*times, now], timeout=max(1, math.ceil(window)))
            return len(times) + 1

    def sync(self, now: float, window: float, used_upstream: int) -> None:
        with self._lock:
            times = self._times(now, window)
            times += [now] * max(0, min(used_upstream - len(times), 1000))
            cache.set(_LOG_KEY, times, timeout=max(1, math.ceil(window)))

    def used(self, now: float, window: float) -> int:
        with self._lock:
            return len(self._times(now, window))


_local_log = _LocalLog()
_redis_logs: dict[tuple[int, str], _RedisLog] = {}


def _store() -> _RedisLog | _LocalLog:
    client = redis_client()
    if client is None:
        return _local_log
    key = cache.make_key(_LOG_KEY)
    found = _redis_logs.get((id(client), key))
    if found is None:
        found = _redis_logs[(id(client), key)] = _RedisLog(client, key)
    return found


def redis_client():
    """The cache's Redis client, or None on the local-memory cache."""
    if not hasattr(cache, "client") or not hasattr(cache.client, "get_client"):
        return None
    return cache.client.get_client(write=True)


def forget_published_limit() -> None:
    """Tests: read the published limit from the cache again at the next call."""
    _memo.clear()
