"""Owner, another user and an anonymous visitor on every devices page and endpoint.

The owner gets in; another user gets 404 (as if it did not exist); anonymous
visitors are sent to sign in (pages) or get the 401 envelope (API).
"""

import pytest
from django.test import Client

from devices.models import Device, DeviceToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(alice, alice_device, issue_code):
    device = alice_device.device
    token_id = alice_device.device_token.public_id
    code_id = issue_code(alice).pairing_code.public_id
    return {
        "detail_page": f"/devices/{device.pk}/",
        "rename_page": f"/devices/{device.pk}/rename/",
        "unpair_page": f"/devices/{device.pk}/unpair/",
        "revoke_page": f"/devices/{device.pk}/tokens/{token_id}/revoke/",
        "detail_api": f"/api/devices/{device.pk}",
        "revoke_api": f"/api/devices/{device.pk}/tokens/{token_id}/revoke",
        "code_api": f"/api/devices/pairing-codes/{code_id}",
    }


# (url key, method, data, status for the owner)
OWNED = [
    ("detail_page", "get", None, 200),
    ("rename_page", "get", None, 200),
    ("rename_page", "post", {"name": "New"}, 302),
    ("unpair_page", "get", None, 200),
    ("unpair_page", "post", None, 302),
    ("revoke_page", "post", None, 302),
    ("detail_api", "get", None, 200),
    ("detail_api", "patch", {"name": "New"}, 200),
    ("detail_api", "delete", None, 204),
    ("revoke_api", "post", None, 200),
    ("code_api", "get", None, 200),
]


def _call(client, method, url, data):
    if method == "patch":
        return client.patch(url, data, content_type="application/json")
    return getattr(client, method)(url, data) if data else getattr(client, method)(url)


@pytest.mark.parametrize(("key", "method", "data", "status"), OWNED)
def test_the_owner_gets_in(alice_client, urls, key, method, data, status):
    assert _call(alice_client, method, urls[key], data).status_code == status


@pytest.mark.parametrize(("key", "method", "data", "status"), OWNED)
def test_another_user_gets_404_and_changes_nothing(bob_client, urls, key, method, data, status):
    response = _call(bob_client, method, urls[key], data)
    assert response.status_code == 404
    if key.endswith("_api"):
        assert response.json()["error"]["code"] in {"device_not_found", "pairing_code_not_found"}
    device = Device.objects.get()
    assert (device.name, device.deleted_at) == ("Bench KL720", None)
    assert DeviceToken.objects.get().revoked_at is None


@pytest.mark.parametrize(("key", "method", "data", "status"), OWNED)
def test_anonymous_visitors_must_sign_in(client, urls, key, method, data, status):
    response = _call(client, method, urls[key], data)
    if key.endswith("_api"):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert Device.objects.get().deleted_at is None


@pytest.mark.parametrize(
    ("method", "url", "owner_status"),
    [
        ("get", "/devices/", 200),
        ("get", "/devices/pair/", 200),
        ("post", "/devices/pair/", 200),
        ("get", "/api/devices/", 200),
        ("post", "/api/devices/pairing-codes", 201),
    ],
)
def test_user_wide_urls(alice_client, bob_client, alice_device, method, url, owner_status):
    assert getattr(alice_client, method)(url).status_code == owner_status
    anonymous = getattr(Client(), method)(url)
    if url.startswith("/api/"):
        assert anonymous.status_code == 401
    else:
        assert anonymous.status_code == 302
    # Bob's view of the list holds none of Alice's devices.
    if url == "/api/devices/":
        assert bob_client.get(url).json()["devices"] == []
    if url == "/devices/":
        assert b"Bench KL720" not in bob_client.get(url).content


def test_another_users_code_status_is_hidden(bob_client, alice, issue_code):
    code_id = issue_code(alice).pairing_code.public_id
    response = bob_client.get(f"/api/devices/pairing-codes/{code_id}")
    assert response.status_code == 404


def test_the_agent_exchange_needs_no_session(client, alice, issue_code):
    body = {"code": issue_code(alice).code, "serial": "SN-X", "chip": "KL520"}
    assert client.post("/api/agent/pair", body, content_type="application/json").status_code == 201
