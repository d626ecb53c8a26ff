"""The caps on relayed exchanges (devices/relay_slots.py), on both stores."""

from __future__ import annotations

import pytest

from devices import relay_slots
from devices.errors import RelayTooManyExchanges, TunnelUnavailable

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, settings):
    if request.param == "database":
        settings.REDIS_URL = ""
    settings.RELAY_MAX_EXCHANGES_PER_USER = 3
    settings.RELAY_MAX_EXCHANGES_PER_DEVICE = 2
    settings.RELAY_SLOT_TTL_SECONDS = 60
    return request.param


@pytest.fixture
def two_devices(alice, issue_code, pair):
    return [str(pair(issue_code(alice).code, serial=f"SLOT-{n}").device.pk) for n in range(2)]


def acquire(user, device_id):
    return relay_slots.slot_acquire(user_id=user.pk, device_id=device_id)


def test_a_device_has_its_cap(store, alice, two_devices):
    first, _second = two_devices
    held = [acquire(alice, first), acquire(alice, first)]
    with pytest.raises(RelayTooManyExchanges) as refused:
        acquire(alice, first)
    assert refused.value.status == 429
    assert refused.value.details == {"cap": "device", "limit": 2}
    assert refused.value.headers == {"Retry-After": "1"}
    assert relay_slots.slots_held(device_id=first) == 2
    relay_slots.slot_release(slot=held[0])
    assert relay_slots.slots_held(device_id=first) == 1
    acquire(alice, first)


def test_a_user_has_a_cap_over_all_their_devices(store, alice, bob, two_devices, issue_code, pair):
    first, second = two_devices
    acquire(alice, first)
    acquire(alice, first)
    acquire(alice, second)
    with pytest.raises(RelayTooManyExchanges) as refused:
        acquire(alice, second)
    assert refused.value.details == {"cap": "user", "limit": 3}
    assert relay_slots.slots_held(user_id=alice.pk) == 3
    # Another user is not counted against alice.
    acquire(bob, str(pair(issue_code(bob).code, serial="SLOT-BOB").device.pk))


def test_a_holder_that_stops_renewing_frees_its_slot(store, alice, two_devices, settings):
    first, _second = two_devices
    settings.RELAY_SLOT_TTL_SECONDS = 0  # leases that end as they start: a dead holder
    acquire(alice, first)
    acquire(alice, first)
    assert relay_slots.slots_held(device_id=first) == 0
    acquire(alice, first)


def test_renewing_keeps_a_slot_and_only_a_held_one(store, alice, two_devices):
    first, _second = two_devices
    slot = acquire(alice, first)
    relay_slots.slot_renew(slots=[slot])
    assert relay_slots.slots_held(device_id=first) == 1
    relay_slots.slot_release(slot=slot)
    relay_slots.slot_renew(slots=[slot])  # released: renewing does not bring it back
    assert relay_slots.slots_held(device_id=first) == 0


def test_the_keeper_releases_what_it_holds(store, alice, two_devices):
    first, _second = two_devices
    slot = acquire(alice, first)
    relay_slots.keeper.hold(slot)
    assert slot in relay_slots.keeper.held()
    relay_slots.keeper.release(slot)
    assert slot not in relay_slots.keeper.held()
    assert relay_slots.slots_held(device_id=first) == 0


def test_a_store_that_is_down_is_a_503_not_a_500(store, alice, two_devices, monkeypatch):
    class Down:
        def acquire(self, *args):
            raise ConnectionError("the store is down")

    monkeypatch.setattr(relay_slots, "_backend", Down)
    with pytest.raises(TunnelUnavailable):
        acquire(alice, two_devices[0])
