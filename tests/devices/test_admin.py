"""The admin unpairs and revokes through the services; it never adds or deletes."""

import pytest
from django.urls import reverse

from devices.models import Device, DeviceToken

pytestmark = pytest.mark.django_db


def test_the_unpair_action_revokes_tokens(admin_client, alice_device):
    response = admin_client.post(
        reverse("admin:devices_device_changelist"),
        {"action": "unpair", "_selected_action": [str(alice_device.device.pk)]},
    )
    assert response.status_code == 302
    assert not Device.objects.live().exists()
    assert DeviceToken.objects.get().revoked_at is not None


def test_the_revoke_action(admin_client, alice_device):
    admin_client.post(
        reverse("admin:devices_devicetoken_changelist"),
        {"action": "revoke", "_selected_action": [alice_device.device_token.pk]},
    )
    assert DeviceToken.objects.get().revoked_at is not None
    assert Device.objects.live().exists()


@pytest.mark.parametrize("model", ["device", "pairingcode", "devicetoken"])
def test_nothing_is_added_from_the_admin(admin_client, model):
    assert admin_client.get(reverse(f"admin:devices_{model}_add")).status_code == 403
