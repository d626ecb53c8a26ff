"""A serial is unique among live devices; an unpaired serial can pair again."""

import pytest
from django.db import IntegrityError, transaction

from devices import services
from devices.models import Device, PairingCode

pytestmark = pytest.mark.django_db


def test_a_live_serial_cannot_pair_twice(alice, bob, issue_code, pair, agent_client):
    pair(issue_code(alice).code, serial="SN-1")
    body = {"code": issue_code(bob).code, "serial": "SN-1", "chip": "KL520"}
    response = agent_client().post("/api/agent/pair", body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "serial_already_paired"
    assert Device.objects.count() == 1
    # The code was not spent on the refused exchange.
    assert PairingCode.objects.filter(owner=bob, used_at__isnull=True).exists()


def test_the_database_enforces_it_among_live_rows(alice):
    Device.objects.create(owner=alice, serial="SN-1", name="a", chip="KL520")
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(owner=alice, serial="SN-1", name="b", chip="KL520")


def test_an_unpaired_serial_pairs_again(alice, bob, issue_code, pair, agent_client):
    first = pair(issue_code(alice).code, serial="SN-1")
    services.device_unpair(device=first.device)
    second = pair(issue_code(bob).code, serial="SN-1")
    assert second.device.pk != first.device.pk
    assert second.device.owner == bob
    assert Device.objects.filter(serial="SN-1").count() == 2
    assert Device.objects.live().get(serial="SN-1") == second.device
    me = agent_client(second.token).get("/api/agent/me")
    assert me.json()["device_id"] == str(second.device.pk)
    assert agent_client(first.token).get("/api/agent/me").status_code == 401
