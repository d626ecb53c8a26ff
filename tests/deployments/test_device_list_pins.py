"""The device list marks a pinned device beside its name, with its pin's reason, or
the group it is pinned with: not only on the device's own page."""

from __future__ import annotations

import re

import pytest

from deployments import group_services

pytestmark = pytest.mark.django_db


def marks(html: str, device) -> list[str]:
    """The marks in the device's row, as text."""
    row = re.search(rf'<tr>\s*<td[^>]*>\s*<a href="/devices/{device.pk}/".*?</tr>', html, re.S)
    found = re.findall(r'<div class="small" data-role="mark">(.*?)</div>', row.group(0), re.S)
    return [re.sub(r"<[^>]+>", "", mark).strip() for mark in found]


@pytest.mark.parametrize(
    ("language", "pinned", "with_group"),
    [("en", "Pinned", "With the group Rack A: field trial"), ("zh-hant", "已釘選", "Rack A")],
)
def test_pinned_devices_are_marked_in_the_list(
    alice_client, alice, fleet, language, pinned, with_group
):
    group, (own, grouped, free) = fleet(3)
    group_services.group_remove_devices(user=alice, group_id=group.pk, device_ids=[own.pk, free.pk])
    rack = group_services.group_create(user=alice, name="Rack A", device_ids=[grouped.pk])
    group_services.group_pin(user=alice, group_id=rack.pk, reason="field trial")
    group_services.device_pin(user=alice, device_id=own.pk, reason="golden unit")

    html = alice_client.get("/devices/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert marks(html, own) == [f"{pinned} golden unit"]
    (group_mark,) = marks(html, grouped)
    assert group_mark.startswith(pinned) and with_group in group_mark
    assert marks(html, free) == []
