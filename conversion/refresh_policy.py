"""When a watched job's snapshot is refreshed from the converter: once per interval.

Every poll of an unfinished job (any tab, user, worker or instance) notes the job as
watched and asks for the refresh claim; exactly one caller per job per interval gets
it and asks the converter, the others are served the stored snapshot. The interval
is ``CONVERSION_REFRESH_SECONDS`` while the converter's budget allows it, and
stretches evenly across the watched jobs when it does not:

    interval = max(base, window * watched jobs / background share of the budget)

so 50 watched jobs on a 300-per-5-minutes converter (240 for background refreshes)
are each refreshed every 62.5 s, and nobody gets ``service_busy``.

On Redis one script does it all in one round trip (note, count, claim, read the
last check); on the embedded defaults the same in this process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

from conversion.clients import budget

if TYPE_CHECKING:
    from redis.commands.core import Script

# A job counts as watched while it was polled this recently.
WATCH_SECONDS = 30
# A poller's period jitters: at the base interval the claim lapses a little early,
# so a 2 s poller is not refreshed every other poll only.
BASE_SLACK = 0.9
_WATCHED_KEY = "conversion:watched"
_CLAIM_KEY = "conversion:refresh:{job_id}"

# KEYS: watched set, claim key. ARGV: now, job id, watch seconds, base, window, share.
# Returns {claimed 0/1, last check time (string) or false, watched count, interval ms}.
_CLAIM = """
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 1)
local watched = redis.call('ZCARD', KEYS[1])
local interval = math.max(tonumber(ARGV[4]), tonumber(ARGV[5]) * watched / tonumber(ARGV[6]))
local ms = math.max(1, math.floor(interval * 1000))
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ms) then
  return {1, ARGV[1], watched, ms}
end
return {0, redis.call('GET', KEYS[2]), watched, ms}
"""


@dataclass(frozen=True)
class Claim:
    claimed: bool  # this caller asks the converter now
    checked_at: float | None  # when the converter was last asked, if known
    watched: int  # jobs watched now, across every process
    interval: float  # seconds between two refreshes of one job now


def claim(job_id: str) -> Claim:
    """Note ``job_id`` as watched; True for one caller per job per interval."""
    now = time.time()
    base = settings.CONVERSION_REFRESH_SECONDS * BASE_SLACK
    window = budget.limits().window
    share = budget.background_share()
    client = budget.redis_client()
    if client is None:
        return _local.claim(job_id, now, base, window, share)
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_CLAIM)
    keys = [cache.make_key(_WATCHED_KEY), cache.make_key(_CLAIM_KEY.format(job_id=job_id))]
    claimed, checked, watched, ms = script(
        keys=keys, args=[repr(now), job_id, WATCH_SECONDS, base, window, share]
    )
    return Claim(bool(claimed), _float(checked), int(watched), int(ms) / 1000)


def _float(value: bytes | str | float | None) -> float | None:
    # The script's answer: the stored time as bytes, or None (Lua's false) when unknown.
    if value is None:
        return None
    try:
        return float(value.decode() if isinstance(value, bytes) else value)
    except (UnicodeDecodeError, ValueError):
        return None


_scripts: dict[int, Script] = {}


class _LocalWatch:
    """The embedded default: the same in the local-memory cache, under a process lock."""

    _lock = threading.Lock()

    def claim(self, job_id: str, now: float, base: float, window: float, share: float) -> Claim:
        with self._lock:
            watched = {
                job: seen
                for job, seen in cache.get(_WATCHED_KEY, {}).items()
                if seen >= now - WATCH_SECONDS
            }
            watched[job_id] = now
            cache.set(_WATCHED_KEY, watched, timeout=WATCH_SECONDS + 1)
            interval = max(base, window * len(watched) / share)
            key = _CLAIM_KEY.format(job_id=job_id)
            if cache.add(key, now, timeout=interval):
                return Claim(True, now, len(watched), interval)
            return Claim(False, cache.get(key), len(watched), interval)


_local = _LocalWatch()
