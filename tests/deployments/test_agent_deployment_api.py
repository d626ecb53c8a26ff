"""The agent's deployment API: its work (heartbeat and list), the file with Range, its reports."""

from __future__ import annotations

import hashlib

import pytest

from deployments import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployment(alice, alice_kl720, alice_device):
    return services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


@pytest.fixture
def agent(agent_client, alice_device):
    return agent_client(alice_device.token)


def file_url(deployment) -> str:
    return f"/api/agent/deployments/{deployment.pk}/file"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def stored_bytes(model) -> bytes:
    with model.file.open("rb") as stream:
        return stream.read()


def test_the_heartbeat_and_the_list_carry_the_work_item(agent, deployment, alice_kl720):
    beat = agent.post("/api/agent/heartbeat", {}, format="json").json()
    listed = agent.get("/api/agent/deployments").json()
    assert beat["deployments"] == listed["deployments"]
    (item,) = listed["deployments"]
    assert item == {
        "id": str(deployment.pk),
        "state": "pending",
        "model": {
            "id": alice_kl720.pk,
            "name": "detector",
            "sha256": alice_kl720.sha256,
            "size_bytes": alice_kl720.size_bytes,
            "chips": ["KL720"],
        },
        "download_url": f"/api/agent/deployments/{deployment.pk}/file",
        "created_at": item["created_at"],
    }


def test_work_is_the_unfinished_oldest_first(alice, agent, alice_device, make_model):
    models = [make_model(alice, chips=("KL720",)) for _ in range(3)]
    made = [
        services.deployments_create(
            user=alice, model_id=model.pk, device_ids=[alice_device.device.pk]
        )[0].deployment
        for model in models
    ]
    services.deployment_cancel(user=alice, deployment_id=made[1].pk)
    ids = [item["id"] for item in agent.get("/api/agent/deployments").json()["deployments"]]
    assert ids == [str(made[0].pk), str(made[2].pk)]


def test_no_work_is_an_empty_list(agent):
    assert agent.get("/api/agent/deployments").json() == {"deployments": []}
    assert agent.post("/api/agent/heartbeat", {}, format="json").json()["deployments"] == []


def test_the_whole_file_with_its_headers(agent, deployment, alice_kl720):
    response = agent.get(file_url(deployment))
    assert response.status_code == 200
    data = body(response)
    assert data == stored_bytes(alice_kl720)
    assert hashlib.sha256(data).hexdigest() == deployment.sha256
    assert response["Content-Length"] == str(deployment.size_bytes)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{deployment.sha256}"'


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=1000-", 1000, None),
        ("bytes=0-99", 0, 99),
        ("bytes=150000-150009", 150000, 150009),
        ("bytes=299990-400000", 299990, None),  # past the end: up to the end
        ("bytes=-10", 299990, None),
    ],
)
def test_a_range_is_206_with_only_those_bytes(agent, deployment, alice_kl720, header, first, last):
    data = stored_bytes(alice_kl720)
    size = len(data)
    last = size - 1 if last is None else last
    response = agent.get(file_url(deployment), HTTP_RANGE=header)
    assert response.status_code == 206
    assert body(response) == data[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["ETag"] == f'"{deployment.sha256}"'


@pytest.mark.parametrize("header", ["bytes=300000-", "bytes=999999-", "bytes=-0"])
def test_a_range_past_the_end_is_416(agent, deployment, header):
    response = agent.get(file_url(deployment), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{deployment.size_bytes}"


@pytest.mark.parametrize("header", ["bytes=0-9,20-29", "items=0-9", "bytes=9-1", "bytes=x-"])
def test_a_range_we_do_not_serve_sends_the_whole_file(agent, deployment, header):
    response = agent.get(file_url(deployment), HTTP_RANGE=header)
    assert response.status_code == 200
    assert len(body(response)) == deployment.size_bytes


def test_if_range_with_the_etag_keeps_the_range_another_sends_everything(agent, deployment):
    etag = f'"{deployment.sha256}"'
    kept = agent.get(file_url(deployment), HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert kept.status_code == 206
    assert len(body(kept)) == deployment.size_bytes - 100
    other = agent.get(
        file_url(deployment), HTTP_RANGE="bytes=100-", HTTP_IF_RANGE='"' + "0" * 64 + '"'
    )
    assert other.status_code == 200
    assert len(body(other)) == deployment.size_bytes
    assert "Content-Range" not in other


def test_another_devices_token_is_not_found(agent_client, alice, deployment, issue_code, pair):
    other = agent_client(pair(issue_code(alice).code, serial="ALICE-OTHER").token)
    for response in (
        other.get(file_url(deployment)),
        other.post(
            f"/api/agent/deployments/{deployment.pk}/state", {"state": "downloading"}, format="json"
        ),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_signed_in_user_is_not_an_agent(alice_client, deployment):
    assert alice_client.get(file_url(deployment)).status_code in {401, 403}


def test_a_cancelled_deployment_is_409_for_the_file_and_reports(alice, agent, deployment):
    services.deployment_cancel(user=alice, deployment_id=deployment.pk)
    response = agent.get(file_url(deployment))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "deployment_finished"
    report = agent.post(
        f"/api/agent/deployments/{deployment.pk}/state", {"state": "downloading"}, format="json"
    )
    assert report.status_code == 409
    assert report.json()["error"]["code"] == "deployment_cancelled"


def post_state(agent, deployment, **data):
    return agent.post(f"/api/agent/deployments/{deployment.pk}/state", data, format="json")


def test_reports_move_the_deployment_and_answer_it(agent, deployment):
    answer = post_state(agent, deployment, state="downloading", bytes_done=10, bytes_total=300_000)
    assert answer.status_code == 200
    assert answer.json()["state"] == "downloading"
    assert answer.json()["bytes_done"] == 10
    assert post_state(agent, deployment, state="verifying").status_code == 200
    installed = post_state(agent, deployment, state="installed")
    assert installed.json()["state"] == "installed"
    assert installed.json()["finished_at"]
    again = post_state(agent, deployment, state="installed")
    assert again.status_code == 200
    refused = post_state(agent, deployment, state="failed", error_code="install_failed")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "deployment_finished"
    # A finished deployment leaves the work list.
    assert agent.get("/api/agent/deployments").json()["deployments"] == []


def test_an_illegal_transition_is_409(agent, deployment):
    response = post_state(agent, deployment, state="installed")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"


@pytest.mark.parametrize(
    "data",
    [
        {"state": "pending"},
        {"state": "cancelled"},
        {"state": "downloading", "bytes_done": -1},
        {"state": "failed", "error_code": "Not A Code"},
        {"state": "failed", "error_message": "x" * 501},
        {},
    ],
)
def test_a_bad_report_is_400_and_changes_nothing(agent, deployment, data):
    response = post_state(agent, deployment, **data)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    deployment.refresh_from_db()
    assert deployment.state == "pending"
