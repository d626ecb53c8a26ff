"""With the models in S3, an agent that says it follows a presigned redirect gets one
(after every check of the file endpoint, holding no download slot); an old agent, or a
local folder, gets the answer it always had. The real agent through a live server and
the S3 stand-in: tests/deployments/test_download_presigned_live.py."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from deployments import services
from tests.s3_stand_in import use_bucket_for_models

# Closing a streamed answer ends the request (request_finished closes the connection):
# only a committed test database survives that.
pytestmark = pytest.mark.django_db(transaction=True)

ACCEPTS = {"HTTP_X_VISIONA_AGENT_ACCEPTS": "presigned"}
SIZE = 300_000


@pytest.fixture
def deploy_file(alice, make_model, alice_device):
    def make():
        model = make_model(alice, "detector", chips=("KL720",), size=SIZE)
        deployment = services.deployments_create(
            user=alice, model_id=model.pk, device_ids=[alice_device.device.pk]
        )[0].deployment
        return deployment, f"/api/agent/deployments/{deployment.pk}/file"

    return make


@pytest.fixture
def in_bucket(settings, s3_stand_in, deploy_file):
    bucket = use_bucket_for_models(settings, s3_stand_in)
    deployment, url = deploy_file()
    return bucket, deployment, url


def test_an_agent_that_follows_gets_the_presigned_url(
    in_bucket, agent_client, alice_device, slots_taken, s3_stand_in
):
    bucket, deployment, url = in_bucket
    answer = agent_client(alice_device.token).get(url, HTTP_RANGE="bytes=100-", **ACCEPTS)
    assert answer.status_code == 302
    assert answer["Cache-Control"] == "no-store"
    assert answer["Referrer-Policy"] == "no-referrer"
    assert slots_taken == []
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}" == s3_stand_in.endpoint_url
    assert location.path == f"/{bucket}/models/{deployment.model.file.name}"
    query = parse_qs(location.query)
    assert query["response-content-type"] == ["application/octet-stream"]
    assert "response-content-disposition" not in query
    # Signed with SigV4 (visiona/settings/web.py), and for a short time.
    assert "X-Amz-Signature" in query
    assert query["X-Amz-Expires"] == ["300"]
    assert alice_device.token not in answer["Location"]


def test_an_old_agent_still_gets_the_bytes_from_the_app(
    in_bucket, agent_client, alice_device, slots_taken
):
    _, deployment, url = in_bucket
    answer = agent_client(alice_device.token).get(url, HTTP_RANGE="bytes=100-")
    assert answer.status_code == 206
    assert len(b"".join(answer.streaming_content)) == SIZE - 100
    answer.close()
    assert slots_taken == [str(deployment.device_id)]


def test_every_check_comes_before_the_redirect(
    in_bucket, agent_client, alice, alice_device, issue_code, pair
):
    _, deployment, url = in_bucket
    assert agent_client("vad_not-a-token").get(url, **ACCEPTS).status_code == 401
    other = pair(issue_code(alice).code, serial="ALICE-0002")
    assert agent_client(other.token).get(url, **ACCEPTS).status_code == 404
    agent = agent_client(alice_device.token)
    past_the_end = agent.get(url, HTTP_RANGE=f"bytes={SIZE}-", **ACCEPTS)
    assert past_the_end.status_code == 416
    assert past_the_end["Content-Range"] == f"bytes */{SIZE}"
    services.deployment_cancel(user=alice, deployment_id=deployment.pk)
    finished = agent.get(url, **ACCEPTS)
    assert finished.status_code == 409
    assert finished.json()["error"]["code"] == "deployment_finished"


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_RANGE": "bytes=0-1,5-6"},  # several ranges: the app sends the whole file
        {"HTTP_RANGE": "bytes=100-", "HTTP_IF_RANGE": '"another-file"'},
    ],
)
def test_a_range_the_bucket_would_judge_otherwise_is_streamed(
    in_bucket, agent_client, alice_device, headers
):
    _, _, url = in_bucket
    answer = agent_client(alice_device.token).get(url, **headers, **ACCEPTS)
    assert answer.status_code == 200
    assert len(b"".join(answer.streaming_content)) == SIZE
    answer.close()


def test_a_local_folder_streams_or_hands_nginx_the_file_whatever_the_agent_accepts(
    deploy_file, agent_client, alice_device, slots_taken
):
    deployment, url = deploy_file()
    agent = agent_client(alice_device.token)
    streamed = agent.get(url, **ACCEPTS)
    assert streamed.status_code == 200 and streamed.streaming
    streamed.close()
    assert slots_taken == [str(deployment.device_id)]
    offloaded = agent.get(url, HTTP_X_VISIONA_OFFLOAD="files", **ACCEPTS)
    assert offloaded.status_code == 200
    assert offloaded["X-Accel-Redirect"] == f"/_internal/files/whole/{deployment.model.file.name}"
