"""Downloads the app streams itself are capped per device: past the cap, 429 with
Retry-After at once; a download closed (read or not) gives its place back."""

from __future__ import annotations

import pytest

from deployments import services

# Closing a streamed answer ends the request (request_finished closes the connection):
# only a committed test database survives that.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deployment(alice, alice_kl720, alice_device):
    return services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


def test_a_device_past_its_downloads_waits_its_turn(
    settings, agent_client, alice_device, deployment
):
    settings.DEPLOYMENT_DOWNLOADS_PER_DEVICE = 2
    agent = agent_client(alice_device.token)
    url = f"/api/agent/deployments/{deployment.pk}/file"
    first, second = agent.get(url), agent.get(url, HTTP_RANGE="bytes=10-")
    assert (first.status_code, second.status_code) == (200, 206)
    refused = agent.get(url)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_downloads"
    assert int(refused["Retry-After"]) > 0
    b"".join(first.streaming_content)
    first.close()  # read to the end
    second.close()  # never read: its place comes back all the same
    again = agent.get(url)
    assert again.status_code == 200, again.content
    again.close()


def test_another_devices_downloads_are_not_counted(
    settings, agent_client, alice, alice_device, deployment, alice_kl720, issue_code, pair
):
    settings.DEPLOYMENT_DOWNLOADS_PER_DEVICE = 1
    other = pair(issue_code(alice).code, serial="ALICE-0002")
    theirs = services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[other.device.pk]
    )[0].deployment
    held = agent_client(alice_device.token).get(f"/api/agent/deployments/{deployment.pk}/file")
    assert held.status_code == 200
    answer = agent_client(other.token).get(f"/api/agent/deployments/{theirs.pk}/file")
    assert answer.status_code == 200
    held.close()
    answer.close()


def test_an_offloaded_download_takes_no_place(settings, agent_client, alice_device, deployment):
    settings.DEPLOYMENT_DOWNLOADS_PER_DEVICE = 1
    agent = agent_client(alice_device.token)
    url = f"/api/agent/deployments/{deployment.pk}/file"
    held = agent.get(url)
    offloaded = agent.get(url, HTTP_X_VISIONA_OFFLOAD="files")
    assert offloaded.status_code == 200 and offloaded["X-Accel-Redirect"]
    held.close()
