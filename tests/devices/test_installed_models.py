"""The device page lists the models installed on the device, read through its tunnel
(devices/installed_models.py)."""

from __future__ import annotations

import uuid

import pytest
import responses

from devices import tunnel_registry

pytestmark = pytest.mark.django_db

NODE = "http://relay-node.internal:3801"


def page(client, path, language="en"):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_device_page_lists_the_models_read_through_the_tunnel(alice_client, alice_device):
    device = alice_device.device
    tunnel_registry.register(device_id=str(device.pk), node_url=NODE, connection_id="c1")
    listed = {
        "demo": True,
        "models": [
            {
                "name": "detector",
                "file": "detector.nef",
                "sha256": "a" * 64,
                "size_bytes": 300000,
                "installed_at": "2026-12-01T10:00:00+00:00",
                "deployment_id": str(uuid.uuid4()),
                "model_id": 1,
            }
        ],
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as node:
        node.get(f"{NODE}/devices/{device.pk}/api/models", json=listed)
        node.get(f"{NODE}/devices/{device.pk}/api/system/deps", json={"demo": True})
        html = page(alice_client, f"/devices/{device.pk}/")
    assert "a" * 64 in html
    assert "293.0\xa0KB" in html or "293.0 KB" in html
