"""With MODELS_STORAGE_S3_PUBLIC_ENDPOINT_URL, an agent that follows a presigned
redirect is sent to the bucket's public address, with a URL signed for it, and fetches
its range there; an older agent's bytes are still read by the app at the inside address.
The public address is a proxy in front of the S3 stand-in that checks each URL's
signature for the Host it was asked of (tests/s3_stand_in.py); the browser's side:
tests/models_repo/test_download_public_endpoint.py."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from deployments import services
from tests.s3_stand_in import BucketProxy, use_bucket_for_models

# Closing a streamed answer ends the request (request_finished closes the connection):
# only a committed test database survives that.
pytestmark = pytest.mark.django_db(transaction=True)

ACCEPTS = {"HTTP_X_VISIONA_AGENT_ACCEPTS": "presigned"}
SIZE = 300_000


@pytest.fixture
def public_address(s3_stand_in):
    with BucketProxy(s3_stand_in, verify_signatures=True) as proxy:
        yield proxy


@pytest.fixture
def deployment(settings, s3_stand_in, public_address, alice, make_model, alice_device):
    # SigV4, which signs the host: a URL made for another address fails at this one.
    use_bucket_for_models(
        settings,
        s3_stand_in,
        public_endpoint_url=public_address.endpoint_url,
    )
    model = make_model(alice, "detector", chips=("KL720",), size=SIZE)
    return services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


def file_url(deployment) -> str:
    return f"/api/agent/deployments/{deployment.pk}/file"


def stored(deployment) -> bytes:
    with deployment.model.file.open("rb") as stream:
        return stream.read()


def test_an_agent_is_sent_to_the_public_address_and_resumes_there(
    deployment, agent_client, alice_device, public_address, slots_taken
):
    answer = agent_client(alice_device.token).get(
        file_url(deployment), HTTP_RANGE="bytes=100-", **ACCEPTS
    )
    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}" == public_address.endpoint_url
    assert "X-Amz-Signature=" in location.query
    assert slots_taken == []

    session = requests.Session()
    session.trust_env = False
    fetched = session.get(answer["Location"], headers={"Range": "bytes=100-"}, timeout=30)
    assert fetched.status_code == 206, fetched.text
    assert fetched.content == stored(deployment)[100:]
    assert [request["method"] for request in public_address.requests] == ["GET"]


def test_an_older_agent_gets_the_bytes_the_app_read_at_the_inside_address(
    deployment, agent_client, alice_device, public_address, slots_taken
):
    answer = agent_client(alice_device.token).get(file_url(deployment))
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == stored(deployment)
    answer.close()
    assert slots_taken == [str(deployment.device_id)]
    assert public_address.requests == []
