"""Group and rollout pages, and a device page's groups, pin and rollback."""

from __future__ import annotations

import pytest

from deployments import group_services
from deployments.models import Deployment, DeviceGroup, DevicePin, Rollout
from deployments.services import deployments_create
from tests.deployments.rollout_support import fail, report, targets

pytestmark = pytest.mark.django_db


def page(client, path, language="en", status=200):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == status, response.status_code
    return response.content.decode()


def test_groups_are_made_filled_and_shown(alice_client, alice, alice_devices):
    devices = [r.device for r in alice_devices(2)]
    made = alice_client.post("/devices/groups/", {"name": "Rack A"})
    group = DeviceGroup.objects.get(name="Rack A")
    assert made.headers["Location"] == f"/devices/groups/{group.pk}/"

    alice_client.post(
        f"/devices/groups/{group.pk}/devices/",
        {"action": "add", "device_ids": [str(devices[0].pk)], "chip": ""},
    )
    alice_client.post(f"/devices/groups/{group.pk}/devices/", {"action": "add", "chip": "KL720"})

    assert set(group.devices.all()) == set(devices)
    html = page(alice_client, f"/devices/groups/{group.pk}/")
    assert "2 devices" in html and devices[0].name in html
    assert f"/devices/rollouts/new/?group={group.pk}" in html
    assert "Rack A" in page(alice_client, "/devices/groups/")
    assert 'href="/devices/groups/"' in page(alice_client, "/devices/")


def test_a_group_name_taken_is_said_on_the_page(alice_client, alice):
    group_services.group_create(user=alice, name="Rack A")
    response = alice_client.post("/devices/groups/", {"name": "rack a"})
    assert response.status_code == 400
    assert "You already have a group with this name." in response.content.decode()
    assert DeviceGroup.objects.count() == 1


def test_other_users_and_signed_out(client, bob_client, alice):
    group = group_services.group_create(user=alice, name="Rack A")
    assert bob_client.get(f"/devices/groups/{group.pk}/").status_code == 404
    assert bob_client.post(f"/devices/groups/{group.pk}/delete/").status_code == 404
    assert client.get(f"/devices/groups/{group.pk}/").status_code == 302
    assert DeviceGroup.objects.filter(pk=group.pk).exists()


def test_a_rollout_is_started_from_its_page_and_followed(
    alice_client, alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(3)
    form = page(alice_client, f"/devices/rollouts/new/?group={group.pk}")
    assert f'value="{group.pk}" selected' in form
    assert 'value="1, 20%, rest"' in form

    response = committing(
        alice_client.post,
        "/devices/rollouts/new/",
        {
            "group": str(group.pk),
            "model": str(alice_kl720.pk),
            "phases": "1, rest",
            "max_failure_percent": "0",
            "wait_minutes": "5",
        },
    )

    rollout = Rollout.objects.get()
    assert response.headers["Location"] == f"/devices/rollouts/{rollout.pk}/"
    assert (rollout.max_failure_percent, rollout.wait_seconds) == (0, 300)
    html = page(alice_client, f"/devices/rollouts/{rollout.pk}/")
    assert "Rollout of detector to" in html
    assert 'data-role="rollout-state">Running' in html
    assert "rollout-progress-data" in html
    assert html.count("data-device-id=") == 3
    assert 'data-action="pause">' in html  # shown: it runs
    assert 'data-action="resume" hidden' in html


def test_a_paused_rollout_says_why_on_its_page_and_takes_a_retry(
    alice_client, alice, alice_kl720, fleet, committing
):
    from deployments.rollout_services import rollout_create

    group, _devices = fleet(2)
    rollout = committing(
        rollout_create, user=alice, model_id=alice_kl720.pk, group_id=group.pk, phases=["1"]
    )
    (first,) = targets(rollout, 1)
    committing(fail, first.device, first.deployment)

    html = page(alice_client, f"/devices/rollouts/{rollout.pk}/")
    assert "Phase 1: 1 of 1 devices failed, more than the 10% allowed." in html
    assert "The device did not install the model" in html
    assert "The device reported: “the disk said no”" in html

    response = committing(alice_client.post, f"/devices/rollouts/{rollout.pk}/retry/")
    assert response.status_code == 302
    assert Deployment.objects.filter(device=first.device).count() == 2
    assert alice_client.post(f"/devices/rollouts/{rollout.pk}/explode/").status_code == 404


def test_a_bad_rollout_is_refused_on_the_form(alice_client, alice, alice_kl720):
    group = group_services.group_create(user=alice, name="empty")
    response = alice_client.post(
        "/devices/rollouts/new/",
        {
            "group": str(group.pk),
            "model": str(alice_kl720.pk),
            "phases": "1, 20%",
            "max_failure_percent": "10",
            "wait_minutes": "30",
        },
    )
    assert response.status_code == 400
    assert "This group has no devices. Add devices to it first." in response.content.decode()
    assert not Rollout.objects.exists()


def test_the_device_page_pins_and_rolls_back(alice_client, alice, alice_device, make_model):
    device = alice_device.device
    old = make_model(alice, "v1", chips=("KL720",))
    new = make_model(alice, "v2", chips=("KL720",))
    for model in (old, new):
        (result,) = deployments_create(user=alice, model_id=model.pk, device_ids=[device.pk])
        report(device, result.deployment, "installed")

    html = page(alice_client, f"/devices/{device.pk}/")
    assert "Groups, pin and rollback" in html
    assert "Roll back to v1" in html

    alice_client.post(f"/devices/{device.pk}/pin/", {"reason": "trial", "next": "/devices/"})
    assert DevicePin.objects.get(device=device).reason == "trial"
    rolled = alice_client.post(f"/devices/{device.pk}/rollback/")
    assert rolled.headers["Location"] == f"/devices/{device.pk}/"
    rollback = Deployment.objects.get(kind="rollback")
    assert rollback.model_id == old.pk
    html = page(alice_client, f"/devices/{device.pk}/")
    assert "Rollback" in html and "brings back the model it had before" in html
    assert "A rollback of this device is already under way." in html


def test_the_rollout_page_in_chinese(alice_client, alice, alice_kl720, fleet, committing):
    from deployments.rollout_services import rollout_create

    group, _devices = fleet(1)
    rollout = committing(rollout_create, user=alice, model_id=alice_kl720.pk, group_id=group.pk)
    html = page(alice_client, f"/devices/rollouts/{rollout.pk}/", "zh-hant")
    assert 'lang="zh-hant"' in html
    assert "將 detector 發布到" in html
    assert 'data-role="rollout-state">執行中' in html
    assert "共 1 台：0 台通過" in html  # noqa: RUF001
    assert "重試失敗的裝置" in html


def test_staff_see_rollouts_and_groups_read_only(
    admin_client, alice, alice_kl720, fleet, committing
):
    from django.urls import reverse

    from deployments.rollout_services import rollout_create

    group, _devices = fleet(2)
    rollout = committing(rollout_create, user=alice, model_id=alice_kl720.pk, group_id=group.pk)

    listed = admin_client.get(reverse("admin:deployments_rollout_changelist")).content.decode()
    assert str(rollout.pk) in listed
    detail = admin_client.get(reverse("admin:deployments_rollout_change", args=[rollout.pk]))
    assert detail.status_code == 200
    assert "Add rollout" not in listed
    groups = admin_client.get(reverse("admin:deployments_devicegroup_changelist")).content
    assert group.name in groups.decode()
    refused = admin_client.post(reverse("admin:deployments_rollout_delete", args=[rollout.pk]))
    assert refused.status_code == 403
