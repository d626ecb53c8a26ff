"""A deactivated user (``is_active=False``) loses their devices as a revocation would.

Every agent call (heartbeat, its work, a file, a report) and every pairing exchange
with one of their codes is refused at once: the device token is looked up on every
request, with no cache in between. Reactivating the user gives the devices back.
"""

from __future__ import annotations

import pytest

from deployments import services as deployment_services
from devices.models import DeviceToken

pytestmark = pytest.mark.django_db


def deactivate(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


@pytest.fixture
def deployment(alice, alice_kl720, alice_device):
    return deployment_services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


def agent_calls(deployment):
    base = f"/api/agent/deployments/{deployment.pk}"
    return [
        ("post", "/api/agent/heartbeat", {"agent_status": "ok"}),
        ("get", "/api/agent/me", None),
        ("get", "/api/agent/deployments", None),
        ("get", f"{base}/file", None),
        ("post", f"{base}/state", {"state": "downloading"}),
    ]


def call(client, method: str, path: str, data):
    if method == "get":
        return client.get(path)
    return client.post(path, data, format="json")


def test_every_agent_call_is_refused_once_the_owner_is_deactivated(
    alice, alice_device, agent_client, deployment
):
    agent = agent_client(alice_device.token)
    assert agent.get("/api/agent/me").status_code == 200
    deactivate(alice)
    for method, path, data in agent_calls(deployment):
        response = call(agent, method, path, data)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "device_token_invalid", path


def test_reactivating_the_owner_gives_the_device_back(alice, alice_device, agent_client):
    agent = agent_client(alice_device.token)
    deactivate(alice)
    assert agent.post("/api/agent/heartbeat", {}, format="json").status_code == 401
    alice.is_active = True
    alice.save(update_fields=["is_active"])
    assert agent.post("/api/agent/heartbeat", {}, format="json").status_code == 200


def test_another_users_devices_keep_working(alice, bob, issue_code, pair, agent_client):
    bobs = pair(issue_code(bob).code, serial="BOB-0001")
    pair(issue_code(alice).code, serial="ALICE-0002")
    deactivate(alice)
    assert agent_client(bobs.token).get("/api/agent/me").status_code == 200


def test_the_relays_usable_tokens_leave_out_a_deactivated_owners(alice, bob, issue_code, pair):
    # The relay closes open tunnels whose token left this query (its periodic check).
    alices = pair(issue_code(alice).code, serial="ALICE-0003")
    bobs = pair(issue_code(bob).code, serial="BOB-0002")
    deactivate(alice)
    usable = set(DeviceToken.objects.usable().values_list("pk", flat=True))
    assert alices.device_token.pk not in usable
    assert bobs.device_token.pk in usable
    alices.device_token.refresh_from_db()
    assert not alices.device_token.is_usable()


def test_a_deactivated_users_pairing_code_pairs_nothing(alice, issue_code, agent_client):
    issued = issue_code(alice)
    deactivate(alice)
    response = agent_client().post(
        "/api/agent/pair",
        {"code": issued.code, "serial": "SN-DEACT", "chip": "KL720"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "pairing_code_invalid"
    assert not alice.devices.exists()
