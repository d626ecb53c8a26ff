"""What cannot be undone asks first, as deleting a model or unpairing a device does:
deleting a group and rolling a rollout back are links to a page that says what will
happen, with the button that does it; only its POST acts."""

from __future__ import annotations

import pytest

from deployments import group_services
from deployments.models import DeviceGroup, Rollout
from deployments.rollout_choices import RolloutState
from deployments.rollout_services import rollout_create

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
