"""The agent's side of a presigned download (models in S3): visionA answers 302 to the
bucket; the agent follows that one redirect without its token, keeps the Range, and asks
visionA again for a new URL whenever the bucket fails it. Over real sockets: the fake
visionA (tests/client/fake_visiona.py) and a fake bucket (tests/client/fake_bucket.py).
"""

from __future__ import annotations

import pytest

from tests.client.fake_bucket import FakeBucket
from tests.client.fake_visiona import Deployment, nef_bytes

SIZE = 3 * 1024 * 1024 + 123


@pytest.fixture
def bucket():
    with FakeBucket() as bucket:
        yield bucket


@pytest.fixture
def deployment(fake_visiona, bucket):
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    bucket.objects[f"models/{deployment.id}.nef"] = deployment.data
    return deployment


def presigned(bucket: FakeBucket, deployment: Deployment) -> str:
    return bucket.url(f"models/{deployment.id}.nef")


def installed_bytes(models) -> bytes:
    [entry] = models.entries()
    return (models.root / entry["file"]).read_bytes()


def test_it_follows_the_redirect_to_the_bucket_without_its_token(
    deploy, deployment, bucket, models
):
    deployment.redirects = [presigned(bucket, deployment)]
    deploy(deployment)
    assert deployment.state == "installed"
    assert installed_bytes(models) == deployment.data
    [asked] = deployment.requests
    assert asked["X-Visiona-Agent-Accepts"] == "presigned"
    assert deployment.served == 0  # visionA sent no byte of the file
    [fetched] = bucket.requests
    assert "Authorization" not in fetched
    assert "Cookie" not in fetched
    assert "X-Visiona-Agent-Accepts" not in fetched
    assert fetched["Accept-Encoding"] == "identity"
    assert bucket.served == SIZE


def test_a_cut_asks_visiona_again_and_the_bucket_gets_the_range(deploy, deployment, bucket, models):
    half = SIZE // 2
    bucket.cut_at = half
    deployment.redirects = [presigned(bucket, deployment)] * 2
    deploy(deployment)
    assert installed_bytes(models) == deployment.data
    # Each attempt starts at visionA (which judges If-Range), then the bucket.
    assert [request.get("Range") for request in deployment.requests] == [None, f"bytes={half}-"]
    assert deployment.requests[1]["If-Range"] == f'"{deployment.sha256}"'
    first, second = bucket.requests
    assert "Range" not in first
    assert second["Range"] == f"bytes={half}-"
    assert "If-Range" not in second  # a bucket ignores it; the sha256 is checked at the end
    assert "Authorization" not in second
    assert bucket.served == SIZE  # only the rest after the cut


@pytest.mark.parametrize("status", [403, 500, 404, 416])
def test_the_buckets_refusal_asks_visiona_for_a_new_url(deploy, deployment, bucket, models, status):
    bucket.answers = [status]  # 403: the URL expired on the way
    deployment.redirects = [presigned(bucket, deployment)] * 2
    deploy(deployment)
    assert deployment.state == "installed"
    assert len(deployment.requests) == 2
    assert len(bucket.requests) == 2


def test_a_bucket_out_of_reach_asks_visiona_again(deploy, deployment, bucket, models):
    from deploy.processes import free_port

    nowhere = f"http://127.0.0.1:{free_port()}/models/x.nef?X-Amz-Signature=stand-in"
    deployment.redirects = [nowhere, presigned(bucket, deployment)]
    deploy(deployment)
    assert deployment.state == "installed"
    assert len(deployment.requests) == 2


def test_the_bucket_failing_every_time_gives_up_after_the_deadline(
    deploy, make_runner, deployment, bucket, models
):
    bucket.answers = [403] * 1000
    deployment.redirects = [presigned(bucket, deployment)] * 1000
    deploy(deployment, make_runner(give_up_after=0.3))
    assert deployment.state == "failed"
    assert deployment.events[-1]["error_code"] == "download_failed"
    assert 2 < len(bucket.requests) < 1000


def test_a_redirect_from_the_bucket_is_not_followed(deploy, deployment, bucket, models):
    bucket.answers = [302]
    deployment.redirects = [presigned(bucket, deployment)] * 2
    deploy(deployment)
    assert deployment.state == "failed"
    assert deployment.events[-1]["error_code"] == "download_failed"
    assert "redirect" in deployment.events[-1]["error_message"]
    assert len(deployment.requests) == 1  # at once, no second try
    assert models.entries() == []


@pytest.mark.parametrize(
    "location",
    [
        "ftp://127.0.0.1/models/x.nef",
        "file:///etc/passwd",
        "/api/agent/elsewhere",
        "http://user:secret@127.0.0.1/models/x.nef",
    ],
)
def test_a_redirect_to_anything_but_a_plain_http_url_is_refused(
    deploy, deployment, bucket, models, location
):
    deployment.redirects = [location] * 2
    deploy(deployment)
    assert deployment.state == "failed"
    assert deployment.events[-1]["error_code"] == "download_failed"
    assert len(deployment.requests) == 1
    assert bucket.requests == []


def test_no_credential_of_netrc_reaches_the_bucket(
    deploy, deployment, bucket, models, tmp_path, monkeypatch
):
    # requests would add ~/.netrc's login for the bucket's host to a request without auth
    # (the bucket is "localhost" here, visionA 127.0.0.1).
    netrc = tmp_path / "netrc"
    netrc.write_text("machine localhost login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    deployment.redirects = [bucket.url(f"models/{deployment.id}.nef", host="localhost")]
    deploy(deployment)
    assert deployment.state == "installed"
    [fetched] = bucket.requests
    assert "Authorization" not in fetched


def test_an_old_visiona_answering_the_bytes_itself_still_works(deploy, deployment, bucket):
    deploy(deployment)  # no redirect: the bytes come from visionA as before
    assert deployment.state == "installed"
    assert deployment.served == SIZE
    assert bucket.requests == []
