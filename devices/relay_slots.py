"""Caps on concurrent relayed exchanges, per user and per device, shared by every process.

Each relayed exchange holds a **slot**: a lease with a short TTL
(``RELAY_SLOT_TTL_SECONDS``) that its holder renews while the exchange lives and
releases when it ends: Django's response close on the streamed path, the relay
node on the offloaded one (docs/tunnel.md, "Caps"). A holder that dies stops
renewing, and its slots stop counting within the TTL. Over a cap the answer is 429
``too_many_device_requests`` with ``Retry-After`` at once: nothing waits.

Storage: with ``REDIS_URL`` two sorted sets (per user, per device) of slot ids
scored by their expiry in Redis's own clock, acquired and counted in one Lua call;
without, the ``devices.RelaySlot`` table (insert, then count: a race can only
refuse both, never let both past the cap).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from devices.errors import RelayTooManyExchanges, TunnelUnavailable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
_USER_KEY = "relay:slots:user:{}"
_DEVICE_KEY = "relay:slots:device:{}"


@dataclass(frozen=True)
class Slot:
    id: str
    user_id: int
    device_id: str


def slot_acquire(*, user_id: int, device_id: str) -> Slot:
    """A slot for one more exchange of this user with this device, or the 429."""
    slot = Slot(id=uuid.uuid4().hex, user_id=int(user_id), device_id=str(device_id))
    try:
        refused = _backend().acquire(
            slot,
            settings.RELAY_MAX_EXCHANGES_PER_USER,
            settings.RELAY_MAX_EXCHANGES_PER_DEVICE,
            settings.RELAY_SLOT_TTL_SECONDS,
        )
    except Exception as exc:
        # The caps cannot be counted (Redis or the database down): no exchange
        # starts uncounted, and the user gets a 503 in the envelope, not a 500.
        logger.warning("relay slots unavailable", exc_info=True)
        raise TunnelUnavailable() from exc
    if refused:
        limit = (
            settings.RELAY_MAX_EXCHANGES_PER_USER
            if refused == "user"
            else settings.RELAY_MAX_EXCHANGES_PER_DEVICE
        )
        logger.info(
            "relay cap reached", extra={"cap": refused, "limit": limit, "device_id": device_id}
        )
        raise RelayTooManyExchanges(
            details={"cap": refused, "limit": limit},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return slot


def slot_renew(*, slots: list[Slot]) -> None:
    """Extend these slots' leases by the TTL (those already gone stay gone)."""
    if slots:
        _backend().renew(slots, settings.RELAY_SLOT_TTL_SECONDS)


def slot_release(*, slot: Slot) -> None:
    _backend().release([slot])


def slot_release_many(*, slots: list[Slot]) -> None:
    """Free these slots in one call (a relay node's exchanges that ended together)."""
    if slots:
        _backend().release(slots)


def slots_held(*, user_id: int | None = None, device_id: str | None = None) -> int:
    """How many live slots a user or a device holds (tests, the admin's curiosity)."""
    return _backend().count(user_id=user_id, device_id=device_id)


class SlotKeeper:
    """Renews the slots this process holds, every third of the TTL, in one call.

    One daemon thread per process: a holder blocked on a socket (a silent device)
    still keeps its lease, and a process that dies takes its renewals with it.
    """

    def __init__(self) -> None:
        self._held: dict[str, Slot] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, slot: Slot) -> None:
        with self._lock:
            self._held[slot.id] = slot
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="relay-slot-keeper", daemon=True
                )
                self._thread.start()

    def forget(self, slot: Slot) -> None:
        """Stop renewing ``slot``; freeing it is the caller's (``slot_release_many``)."""
        with self._lock:
            self._held.pop(slot.id, None)

    def release(self, slot: Slot) -> None:
        """Stop renewing ``slot`` and free it (held or not; again is harmless)."""
        self.forget(slot)
        try:
            slot_release(slot=slot)
        except Exception:
            # Its lease runs out by itself within the TTL.
            logger.warning("relay slot release failed", exc_info=True)

    def held(self) -> list[Slot]:
        with self._lock:
            return list(self._held.values())

    def _run(self) -> None:
        interval = max(0.5, settings.RELAY_SLOT_TTL_SECONDS / 3)
        while True:
            threading.Event().wait(interval)
            slots = self.held()
            if not slots:
                continue
            try:
                # Inside the try: the keeper must outlive any failure, a database one too.
                close_old_connections()
                slot_renew(slots=slots)
            except Exception:
                logger.warning("relay slot renewal failed", exc_info=True)


keeper = SlotKeeper()


def _backend():
    return _RedisBackend() if settings.REDIS_URL else _DatabaseBackend()


class _DatabaseBackend:
    def acquire(self, slot: Slot, user_cap: int, device_cap: int, ttl: int) -> str | None:
        from devices.models import RelaySlot

        now = timezone.now()
        RelaySlot.objects.filter(user_id=slot.user_id, expires_at__lte=now).delete()
        RelaySlot.objects.create(
            id=slot.id,
            user_id=slot.user_id,
            device_id=slot.device_id,
            expires_at=now + timedelta(seconds=ttl),
        )
        # Counted after our own insert: two racing acquirers both see each other.
        live = RelaySlot.objects.filter(expires_at__gt=now)
        refused = None
        if live.filter(user_id=slot.user_id).count() > user_cap:
            refused = "user"
        elif live.filter(device_id=slot.device_id).count() > device_cap:
            refused = "device"
        if refused:
            RelaySlot.objects.filter(pk=slot.id).delete()
        return refused

    def renew(self, slots: list[Slot], ttl: int) -> None:
        from devices.models import RelaySlot

        RelaySlot.objects.filter(pk__in=[slot.id for slot in slots]).update(
            expires_at=timezone.now() + timedelta(seconds=ttl)
        )

    def release(self, slots: list[Slot]) -> None:
        from devices.models import RelaySlot

        RelaySlot.objects.filter(pk__in=[slot.id for slot in slots]).delete()

    def count(self, *, user_id: int | None, device_id: str | None) -> int:
        from devices.models import RelaySlot

        live = RelaySlot.objects.filter(expires_at__gt=timezone.now())
        if user_id is not None:
            live = live.filter(user_id=user_id)
        if device_id is not None:
            live = live.filter(device_id=device_id)
        return live.count()


# KEYS: the user's set, the device's set. ARGV: slot id, TTL (ms), user cap, device cap.
# Redis's own clock: every web instance and relay node agrees on what has expired.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 'user' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'device' end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
return false
"""
# KEYS: pairs of (user set, device set); ARGV: TTL (ms), then the slot ids.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do
  local user_key, device_key = KEYS[2 * i - 3], KEYS[2 * i - 2]
  redis.call('ZADD', user_key, 'XX', now + ttl, ARGV[i])
  redis.call('ZADD', device_key, 'XX', now + ttl, ARGV[i])
  redis.call('PEXPIRE', user_key, ttl * 2)
  redis.call('PEXPIRE', device_key, ttl * 2)
end
return 0
"""
_COUNT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""


class _RedisBackend:
    def __init__(self) -> None:
        from django.core.cache import cache
        from django_redis import get_redis_connection

        self._cache = cache
        self._redis = get_redis_connection("default")

    def _keys(self, slot: Slot) -> list[str]:
        return [
            self._cache.make_key(_USER_KEY.format(slot.user_id)),
            self._cache.make_key(_DEVICE_KEY.format(slot.device_id)),
        ]

    def acquire(self, slot: Slot, user_cap: int, device_cap: int, ttl: int) -> str | None:
        refused = self._redis.eval(
            _ACQUIRE, 2, *self._keys(slot), slot.id, ttl * 1000, user_cap, device_cap
        )
        return refused.decode() if refused else None

    def renew(self, slots: list[Slot], ttl: int) -> None:
        keys = [key for slot in slots for key in self._keys(slot)]
        self._redis.eval(_RENEW, len(keys), *keys, ttl * 1000, *[slot.id for slot in slots])

    def release(self, slots: list[Slot]) -> None:
        with self._redis.pipeline(transaction=False) as pipe:
            for slot in slots:
                user_key, device_key = self._keys(slot)
                pipe.zrem(user_key, slot.id)
                pipe.zrem(device_key, slot.id)
            pipe.execute()

    def count(self, *, user_id: int | None, device_id: str | None) -> int:
        if user_id is not None:
            key = self._cache.make_key(_USER_KEY.format(user_id))
        else:
            key = self._cache.make_key(_DEVICE_KEY.format(device_id))
        return int(self._redis.eval(_COUNT, 1, key))
