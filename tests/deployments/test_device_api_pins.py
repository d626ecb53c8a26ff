"""The devices API shows each device's pin (registered by deployments through
devices/registry.py): pinned itself, with the reason, or left out of rollouts by a
pinned group; in the list, the detail and the OpenAPI document."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator

from deployments import group_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(alice, alice_devices):
    pinned, grouped, free = (result.device for result in alice_devices(3))
    group_services.device_pin(user=alice, device_id=pinned.pk, reason="field trial")
    group = group_services.group_create(user=alice, name="Rack A", device_ids=[grouped.pk])
    group_services.group_pin(user=alice, group_id=group.pk, reason="frozen")
    return pinned, grouped, free


def pins(device: dict) -> tuple:
    return (device["pinned"], device["pin_reason"], device["pinned_with_group"])


def test_the_list_shows_each_devices_pin(api, three):
    pinned, grouped, free = three
    body = api.get("/api/devices/").json()
    by_id = {device["id"]: pins(device) for device in body["devices"]}
    assert by_id == {
        str(pinned.pk): (True, "field trial", None),
        str(grouped.pk): (False, "frozen", "Rack A"),
        str(free.pk): (False, "", None),
    }


def test_the_detail_shows_it_too(api, three):
    pinned, grouped, _free = three
    assert pins(api.get(f"/api/devices/{pinned.pk}").json()) == (True, "field trial", None)
    assert pins(api.get(f"/api/devices/{grouped.pk}").json()) == (False, "frozen", "Rack A")


def test_the_list_asks_for_the_pins_in_a_fixed_number_of_queries(api, alice, alice_devices):
    alice_devices(1)
    with CaptureQueriesContext(connection) as few:
        api.get("/api/devices/")
    alice_devices(5)
    with CaptureQueriesContext(connection) as more:
        api.get("/api/devices/")
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_document_describes_the_fields():
    document = SchemaGenerator().get_schema(request=None, public=True)
    components = document["components"]["schemas"]
    for name in ("DeviceListItem", "DeviceDetailOutput"):
        properties = components[name]["properties"]
        assert {"pinned", "pin_reason", "pinned_with_group"} <= properties.keys(), name
        assert properties["pinned_with_group"]["nullable"] is True


def test_a_rename_answers_the_device_with_its_pin(api, three):
    pinned, _grouped, _free = three
    response = api.patch(f"/api/devices/{pinned.pk}", {"name": "Bench rig"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Bench rig"
    assert pins(body) == (True, "field trial", None)


def test_the_document_describes_the_renames_answer_with_the_pin():
    document = SchemaGenerator().get_schema(request=None, public=True)
    rename = document["paths"]["/api/devices/{device_id}"]["patch"]
    answer = rename["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/DeviceListItem"}
