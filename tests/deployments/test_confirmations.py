"""What cannot be undone asks first, as deleting a model or unpairing a device does:
deleting a group and rolling a rollout, a group or a device back are links to a page
that says what will happen, with the button that does it; only its POST acts. The one
before forgetting a model's original ONNX names the rollouts whose smoke runs need it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from deployments import group_services
from deployments.models import Deployment, DeviceGroup, Rollout
from deployments.rollout_choices import RolloutState
from deployments.rollout_services import rollout_create
from deployments.services import deployments_create
from tests.deployments.rollout_support import create, report

pytestmark = pytest.mark.django_db


def get(client, path, language="en", status=200):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == status, response.status_code
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "question"), [("en", "Delete the group Rack A?"), ("zh-hant", "Rack A")]
)
def test_deleting_a_group_asks_first(alice_client, alice, language, question):
    group = group_services.group_create(user=alice, name="Rack A")
    delete_url = f"/devices/groups/{group.pk}/delete/"
    group_page = get(alice_client, f"/devices/groups/{group.pk}/", language)
    assert f'href="{delete_url}"' in group_page
    assert f'action="{delete_url}"' not in group_page  # no one-click delete

    asked = get(alice_client, delete_url, language)
    assert question in asked and 'method="post"' in asked
    assert f'href="/devices/groups/{group.pk}/"' in asked  # Cancel
    assert DeviceGroup.objects.filter(pk=group.pk).exists()

    response = alice_client.post(delete_url)
    assert response.headers["Location"] == "/devices/groups/"
    assert not DeviceGroup.objects.filter(pk=group.pk).exists()


def test_only_the_owner_is_asked(client, bob_client, alice):
    group = group_services.group_create(user=alice, name="Rack A")
    assert bob_client.get(f"/devices/groups/{group.pk}/delete/").status_code == 404
    assert client.get(f"/devices/groups/{group.pk}/delete/").status_code == 302


def test_rolling_a_rollout_back_asks_first(
    alice_client, bob_client, alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(2)
    rollout = committing(
        rollout_create, user=alice, model_id=alice_kl720.pk, group_id=group.pk, phases=["1"]
    )
    confirm_url = f"/devices/rollouts/{rollout.pk}/rollback/"
    detail = get(alice_client, f"/devices/rollouts/{rollout.pk}/")
    assert f'href="{confirm_url}" data-action="rollback"' in detail
    assert f'action="{confirm_url}"' not in detail

    asked = get(alice_client, confirm_url)
    assert f"Roll back the rollout of detector to {group.name}?" in asked
    assert "A device that had no model before" in asked and 'method="post"' in asked
    chinese = get(alice_client, confirm_url, "zh-hant")
    assert "回復" in chinese and "A device that had no model before" not in chinese
    assert Rollout.objects.get().state == RolloutState.RUNNING
    assert bob_client.get(confirm_url).status_code == 404

    response = committing(alice_client.post, confirm_url)
    assert response.headers["Location"] == f"/devices/rollouts/{rollout.pk}/"
    assert Rollout.objects.get().state in (RolloutState.ROLLING_BACK, RolloutState.ROLLED_BACK)
    # Nothing left to roll back: the question is not asked again.
    again = alice_client.get(confirm_url)
    assert again.status_code == 302 and again.headers["Location"] == response.headers["Location"]


def installed(alice, device, *names, make_model) -> None:
    for name in names:
        model = make_model(alice, name, chips=("KL720",))
        (result,) = deployments_create(user=alice, model_id=model.pk, device_ids=[device.pk])
        report(device, result.deployment, "installed")


def test_rolling_a_group_back_asks_first_and_says_who_gets_what(
    alice_client, bob_client, alice, fleet, make_model
):
    group, (back, alone, bare) = fleet(3)
    installed(alice, back, "v1", "v2", make_model=make_model)
    installed(alice, alone, "only", make_model=make_model)
    confirm_url = f"/devices/groups/{group.pk}/rollback/"
    group_page = get(alice_client, f"/devices/groups/{group.pk}/")
    assert f'href="{confirm_url}"' in group_page
    assert f'action="{confirm_url}"' not in group_page  # no one-click rollback

    asked = get(alice_client, confirm_url)
    assert f"Roll back the group {group.name}?" in asked and 'method="post"' in asked
    assert f"<strong>{back.name}</strong>: v1 back in place of v2" in asked
    assert f"<strong>{alone.name}</strong>: This device had no model before only" in asked
    assert f"<strong>{bare.name}</strong>: This device has no installed model" in asked
    assert f'href="/devices/groups/{group.pk}/"' in asked  # Cancel
    chinese = get(alice_client, confirm_url, "zh-hant")
    assert "回復群組" in chinese and "back in place of" not in chinese
    assert not Deployment.objects.filter(kind="rollback").exists()
    assert bob_client.get(confirm_url).status_code == 404

    response = alice_client.post(confirm_url)
    assert response.headers["Location"] == f"/devices/groups/{group.pk}/"
    rollback = Deployment.objects.get(kind="rollback")
    assert (rollback.device_id, rollback.model.name) == (back.pk, "v1")


def test_a_group_with_nothing_to_roll_back_offers_no_button(alice_client, alice, fleet):
    group, (device,) = fleet(1)
    asked = get(alice_client, f"/devices/groups/{group.pk}/rollback/")
    assert "nothing would be rolled back" in asked
    assert f"<strong>{device.name}</strong>: This device has no installed model" in asked
    assert 'type="submit"' not in asked.split("<main", 1)[-1]


def test_a_group_rollback_that_would_be_refused_is_not_asked(
    alice_client, alice, alice_kl720, fleet, make_model, committing
):
    empty = group_services.group_create(user=alice, name="empty")
    answer = alice_client.get(f"/devices/groups/{empty.pk}/rollback/", follow=True)
    assert answer.redirect_chain == [(f"/devices/groups/{empty.pk}/", 302)]
    assert "This group has no devices. Add devices to it first." in answer.content.decode()

    group, (device,) = fleet(1)
    installed(alice, device, "v1", "v2", make_model=make_model)
    committing(create, alice, alice_kl720, group)
    answer = alice_client.get(f"/devices/groups/{group.pk}/rollback/", follow=True)
    assert answer.redirect_chain == [(f"/devices/groups/{group.pk}/", 302)]
    assert "roll back the rollout instead" in answer.content.decode()


def test_rolling_a_device_back_asks_first(
    alice_client, bob_client, alice, alice_device, make_model
):
    device = alice_device.device
    installed(alice, device, "v1", "v2", make_model=make_model)
    confirm_url = f"/devices/{device.pk}/rollback/"
    device_page = get(alice_client, f"/devices/{device.pk}/")
    assert f'href="{confirm_url}"' in device_page
    assert f'action="{confirm_url}"' not in device_page

    asked = get(alice_client, confirm_url)
    assert f"Roll {device.name} back to v1?" in asked and 'method="post"' in asked
    assert "v2 comes off the device and v1, the model it had before, comes back" in asked
    assert f'href="/devices/{device.pk}/"' in asked  # Cancel
    chinese = get(alice_client, confirm_url, "zh-hant")
    assert "回復到 v1" in chinese and "comes off the device" not in chinese
    assert not Deployment.objects.filter(kind="rollback").exists()
    assert bob_client.get(confirm_url).status_code == 404

    response = alice_client.post(confirm_url)
    assert response.headers["Location"] == f"/devices/{device.pk}/"
    assert Deployment.objects.get(kind="rollback").model.name == "v1"
    # A rollback under way: not asked again; the device page says why.
    again = alice_client.get(confirm_url, follow=True)
    assert again.redirect_chain == [(f"/devices/{device.pk}/", 302)]
    assert "A rollback of this device is already under way." in again.content.decode()


def test_a_device_with_nothing_to_roll_back_is_not_asked(alice_client, alice_device):
    device = alice_device.device
    answer = alice_client.get(f"/devices/{device.pk}/rollback/", follow=True)
    assert answer.redirect_chain == [(f"/devices/{device.pk}/", 302)]
    assert "This device has no installed model to roll back." in answer.content.decode()
    assert get(alice_client, "/devices/00000000-0000-0000-0000-000000000000/rollback/", status=404)


def with_reference(client, model) -> None:
    onnx = SimpleUploadedFile("net.onnx", b"float onnx" * 300)
    assert client.post(f"/api/models/{model.pk}/reference", {"file": onnx}).status_code == 200


def gate(rollout, **fields) -> None:
    """The rollout's smoke gate, as rollout_create keeps it (its run is not needed here)."""
    Rollout.objects.filter(pk=rollout.pk).update(smoke_gate=True, **fields)


def test_forgetting_the_onnx_names_the_rollouts_it_would_fail(
    alice_client, alice, alice_kl720, fleet, committing
):
    with_reference(alice_client, alice_kl720)
    groups = [fleet(1)[0] for _ in range(4)]
    rollouts = [
        committing(rollout_create, user=alice, model_id=alice_kl720.pk, group_id=group.pk)
        for group in groups
    ]
    running, paused, latency_only, completed = rollouts
    gate(running, smoke_min_cosine=0.99)
    gate(paused, smoke_expect="cosine>=0.99,top1>=0.98", state=RolloutState.PAUSED)
    gate(latency_only, smoke_expect="p50_ms<=20")  # needs no ONNX
    gate(completed, smoke_min_cosine=0.99, state=RolloutState.COMPLETED)  # no runs left
    forget_url = f"/models/{alice_kl720.pk}/reference/forget/"

    asked = get(alice_client, forget_url)
    assert f"The rollout to {groups[0].name}, under way, compares each device" in asked
    assert f"The paused rollout to {groups[1].name} compares" in asked
    assert "will fail once it resumes" in asked
    for rollout in (running, paused):
        assert f'href="/devices/rollouts/{rollout.pk}/"' in asked
    for rollout in (latency_only, completed):
        assert f'href="/devices/rollouts/{rollout.pk}/"' not in asked
    chinese = get(alice_client, forget_url, "zh-hant")
    assert "compares each device" not in chinese and "Open the rollout" not in chinese
    assert groups[0].name in chinese and "發布" in chinese


def test_forgetting_an_onnx_no_rollout_compares_with_says_nothing_of_rollouts(
    alice_client, alice, alice_kl720, fleet, committing
):
    with_reference(alice_client, alice_kl720)
    group, _devices = fleet(1)
    committing(rollout_create, user=alice, model_id=alice_kl720.pk, group_id=group.pk)
    asked = get(alice_client, f"/models/{alice_kl720.pk}/reference/forget/")
    assert 'data-role="reference-needs"' not in asked
