"""Staff see deployments (list, filters, read-only history) and may cancel unfinished ones."""

import pytest
from django.urls import reverse

from deployments import services
from deployments.models import Deployment

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployments(alice, alice_kl720, alice_devices):
    devices = alice_devices(2)
    made = [
        r.deployment
        for r in services.deployments_create(
            user=alice, model_id=alice_kl720.pk, device_ids=[d.device.pk for d in devices]
        )
    ]
    services.deployment_report(device=devices[1].device, deployment_id=made[1].pk, state="failed")
    return made


def test_the_list_filters_by_state(admin_client, deployments):
    url = reverse("admin:deployments_deployment_changelist")
    html = admin_client.get(url).content.decode()
    assert str(deployments[0].pk) in html and str(deployments[1].pk) in html
    failed = admin_client.get(url, {"state__exact": "failed"}).content.decode()
    assert str(deployments[1].pk) in failed and str(deployments[0].pk) not in failed


def test_the_change_page_shows_the_events_read_only(admin_client, deployments):
    response = admin_client.get(
        reverse("admin:deployments_deployment_change", args=[deployments[1].pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "deployment event" in html.lower()
    assert 'name="events-0-state"' not in html  # nothing to edit


def test_the_cancel_action_cancels_only_the_unfinished(admin_client, deployments):
    response = admin_client.post(
        reverse("admin:deployments_deployment_changelist"),
        {"action": "cancel", "_selected_action": [str(d.pk) for d in deployments]},
        follow=True,
    )
    assert "1 deployment cancelled." in response.content.decode()
    states = dict(Deployment.objects.values_list("pk", "state"))
    assert states == {deployments[0].pk: "cancelled", deployments[1].pk: "failed"}


def test_nothing_is_added_changed_or_deleted(admin_client, deployments):
    assert admin_client.get(reverse("admin:deployments_deployment_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:deployments_deployment_delete", args=[deployments[0].pk])
        ).status_code
        == 403
    )
