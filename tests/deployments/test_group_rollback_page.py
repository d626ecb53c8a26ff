"""The group page's "Roll back the group": each device that can goes back to the model
it had before, the others are named with the reason; refused while a rollout of the
group is under way; another user's group is not found."""

from __future__ import annotations

import pytest

from deployments import group_services
from deployments.models import Deployment
from deployments.services import deployments_create
from tests.deployments.rollout_support import create, report

pytestmark = pytest.mark.django_db


def installed(alice, device, *names, make_model) -> None:
    for name in names:
        model = make_model(alice, name, chips=("KL720",))
        (result,) = deployments_create(user=alice, model_id=model.pk, device_ids=[device.pk])
        report(device, result.deployment, "installed")


def messages_of(client, path: str, language: str = "en") -> str:
    return client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_the_group_is_rolled_back_and_a_device_that_cannot_is_named(
    alice_client, alice, fleet, make_model
):
    group, (back, alone) = fleet(2)
    installed(alice, back, "v1", "v2", make_model=make_model)
    installed(alice, alone, "only", make_model=make_model)
    page = messages_of(alice_client, f"/devices/groups/{group.pk}/")
    assert "Roll back the group" in page

    answer = alice_client.post(f"/devices/groups/{group.pk}/rollback/")

    assert answer.headers["Location"] == f"/devices/groups/{group.pk}/"
    rollback = Deployment.objects.get(kind="rollback")
    assert (rollback.device_id, rollback.model.name) == (back.pk, "v1")
    assert not Deployment.objects.filter(kind="rollback", device=alone).exists()
    page = messages_of(alice_client, f"/devices/groups/{group.pk}/")
    assert "A rollback is on its way to 1 device." in page
    assert f"{alone.name}: This device had no model before only" in page


def test_it_is_refused_while_a_rollout_of_the_group_is_under_way(
    alice_client, alice, alice_kl720, fleet, make_model, committing
):
    group, (device,) = fleet(1)
    installed(alice, device, "v1", "v2", make_model=make_model)
    committing(create, alice, alice_kl720, group)
    # The page offers no button then; a form posted anyway is refused with the reason.
    assert "Roll back the group" not in messages_of(alice_client, f"/devices/groups/{group.pk}/")

    alice_client.post(f"/devices/groups/{group.pk}/rollback/", HTTP_ACCEPT_LANGUAGE="zh-hant")

    assert not Deployment.objects.filter(kind="rollback").exists()
    page = messages_of(alice_client, f"/devices/groups/{group.pk}/", "zh-hant")
    assert "此群組有進行中的發布，請改為回復該發布。" in page  # noqa: RUF001
    with_english = alice_client.post(f"/devices/groups/{group.pk}/rollback/", follow=True)
    assert "This group has a rollout under way: roll back the rollout instead." in (
        with_english.content.decode()
    )


def test_an_empty_group_says_so(alice_client, alice):
    group = group_services.group_create(user=alice, name="empty")
    page = alice_client.post(f"/devices/groups/{group.pk}/rollback/", follow=True)
    assert "This group has no devices. Add devices to it first." in page.content.decode()


def test_another_users_group_and_signed_out(client, bob_client, alice, fleet, make_model):
    group, (device,) = fleet(1)
    installed(alice, device, "v1", "v2", make_model=make_model)
    assert bob_client.post(f"/devices/groups/{group.pk}/rollback/").status_code == 404
    signed_out = client.post(f"/devices/groups/{group.pk}/rollback/")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert not Deployment.objects.filter(kind="rollback").exists()
