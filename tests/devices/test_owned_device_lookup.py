"""``device_get_for_user`` runs a query compiled once (visiona/compiled_query.py): it must
find what the ORM's own queryset finds, and nothing else."""

import pytest
from django.contrib.auth.models import AnonymousUser

from devices import selectors, services
from devices.errors import DeviceNotFound
from devices.models import Device
from visiona.compiled_query import CompiledLookup

pytestmark = pytest.mark.django_db


def test_it_gives_the_owner_the_same_row_as_the_orm(alice, alice_device):
    device = alice_device.device
    found = selectors.device_get_for_user(user=alice, device_id=str(device.pk))
    expected = Device.objects.get(pk=device.pk)
    fields = [field.attname for field in Device._meta.concrete_fields]
    assert [getattr(found, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert found._state.adding is False
    assert found._state.db == "default"


def test_it_checks_ownership(bob, alice_device):
    with pytest.raises(DeviceNotFound):
        selectors.device_get_for_user(user=bob, device_id=alice_device.device.pk)


def test_anonymous_visitors_find_nothing(alice_device):
    with pytest.raises(DeviceNotFound):
        selectors.device_get_for_user(user=AnonymousUser(), device_id=alice_device.device.pk)


def test_an_unpaired_device_is_gone(alice, alice_device):
    services.device_unpair(device=alice_device.device)
    with pytest.raises(DeviceNotFound):
        selectors.device_get_for_user(user=alice, device_id=alice_device.device.pk)


@pytest.mark.parametrize("device_id", ["not-a-uuid", "", "0b6f9b0e-3f43-4f43-9b8e-2d6c1c1e4a1f"])
def test_what_is_not_a_device_is_not_found(alice, alice_device, device_id):
    with pytest.raises(DeviceNotFound):
        selectors.device_get_for_user(user=alice, device_id=device_id)


def test_a_stand_in_the_orm_repeats_is_refused(alice):
    # Both filters compare to the same stand-in: which parameter is which cannot be told.
    lookup = CompiledLookup(
        Device,
        lambda name: Device.objects.filter(name=name, serial=name),
        name="stand-in",
    )
    with pytest.raises(ValueError, match="parameters match"):
        lookup.first(name="x")
