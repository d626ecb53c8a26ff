"""The real agent (client/) installs a deployment whose file is in S3, through a live
server and the S3 stand-in: visionA answers the presigned 302, the bucket sends every
byte (a resume after a cut with its Range), no device token reaches the bucket, and no
download slot is held. An old agent (no X-Visiona-Agent-Accepts) still gets the bytes
from the app. Between the agent and the stand-in stands a small proxy that keeps each
request's headers and cuts one answer (tests/s3_stand_in.py)."""

from __future__ import annotations

import pytest
import requests
from visiona_client.backoff import Backoff
from visiona_client.deployment_job import Job, JobRunner, WorkItem
from visiona_client.models_folder import ModelsFolder
from visiona_client.server_api import ServerApi

from deployments import services
from deployments.models import Deployment
from tests.s3_stand_in import BucketProxy, point_models_at, use_bucket_for_models

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SIZE = 6 * 1024 * 1024 + 123  # not a whole number of the agent's chunks


@pytest.fixture
def bucket_proxy(settings, s3_stand_in):
    with BucketProxy(s3_stand_in) as proxy:
        yield proxy


@pytest.fixture
def deployment_in_bucket(settings, s3_stand_in, bucket_proxy, alice, make_model, alice_device):
    # Stored straight into the stand-in, then read (and presigned) through the proxy.
    bucket = use_bucket_for_models(settings, s3_stand_in)
    model = make_model(alice, "in a bucket", chips=("KL720",), size=SIZE)
    point_models_at(settings, s3_stand_in, bucket, endpoint_url=bucket_proxy.endpoint_url)
    return services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


def deployment_bucket(deployment: Deployment) -> str:
    return deployment.model.file.storage.bucket_name


def stored(deployment: Deployment) -> bytes:
    with deployment.model.file.open("rb") as stream:
        return stream.read()


def test_the_agent_gets_the_file_from_the_bucket_and_resumes_there(
    live_server, alice_device, deployment_in_bucket, bucket_proxy, slots_taken, tmp_path
):
    half = SIZE // 2
    bucket_proxy.cut_at = half
    api = ServerApi(live_server.url, token=alice_device.token)
    api.session.trust_env = False
    file_answers: list[int] = []

    def record(response: requests.Response, **_) -> None:
        if response.request.path_url.endswith("/file"):
            file_answers.append(response.status_code)

    api.session.hooks["response"].append(record)
    models = ModelsFolder(tmp_path / "models")
    runner = JobRunner(
        api=api, models=models, chip="KL720", backoff=lambda: Backoff(base=0.01, cap=0.05)
    )
    (item,) = api.deployments()
    runner.run(Job(WorkItem.parse(item)))

    deployment = Deployment.objects.get(pk=deployment_in_bucket.pk)
    assert deployment.state == "installed"
    [entry] = models.entries()
    assert (models.root / entry["file"]).read_bytes() == stored(deployment)
    # visionA's two file answers were the redirect (before and after the cut): the
    # bucket sent every byte, and no web thread held a download slot.
    assert file_answers == [302, 302]
    assert slots_taken == []
    fetched = [
        request
        for request in bucket_proxy.requests
        if request["headers"].get("User-Agent", "").startswith("visiona-agent/")
    ]
    assert [request["method"] for request in fetched] == ["GET", "GET"]
    name = deployment.model.file.name
    for request in fetched:
        assert request["path"].startswith(f"/{deployment_bucket(deployment)}/models/{name}?")
        assert "Authorization" not in request["headers"]
        assert alice_device.token not in str(request)
    assert "Range" not in fetched[0]["headers"]
    assert fetched[1]["headers"]["Range"] == f"bytes={half}-"


def test_an_old_agent_still_gets_the_bytes_from_the_app(
    live_server, alice_device, deployment_in_bucket, bucket_proxy, slots_taken
):
    url = f"{live_server.url}/api/agent/deployments/{deployment_in_bucket.pk}/file"
    session = requests.Session()
    session.trust_env = False
    headers = {"Authorization": f"Bearer {alice_device.token}"}
    with session.get(url, headers=headers, timeout=30, allow_redirects=False) as answer:
        assert answer.status_code == 200
        assert answer.content == stored(deployment_in_bucket)
    assert slots_taken == [str(alice_device.device.pk)]
