"""With MODELS_STORAGE_S3_PUBLIC_ENDPOINT_URL, a My models download is a presigned URL
made for that address (browsers cannot reach the app's own name for the bucket), while
the app's own requests keep the inside one. The bucket's public address here is a proxy
in front of the S3 stand-in that checks each URL's signature for the Host it was asked
of, as S3 and MinIO do; the app reaches the stand-in at its own address. The agent's
side: tests/deployments/test_download_presigned_public.py."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from storages.backends.s3 import S3Storage

from models_repo.storage import models_storage
from tests.s3_stand_in import BucketProxy, use_bucket_for_models

pytestmark = pytest.mark.django_db

DOWNLOADS = ["/api/models/{id}/download", "/models/{id}/download/"]


@pytest.fixture
def public_address(s3_stand_in):
    with BucketProxy(s3_stand_in, verify_signatures=True) as proxy:
        yield proxy


@pytest.fixture
def in_bucket(settings, s3_stand_in, public_address):
    """SigV4 (it signs the host): a URL made for another address fails at this one."""
    return use_bucket_for_models(
        settings,
        s3_stand_in,
        public_endpoint_url=public_address.endpoint_url,
    )


def fetch(url: str, **headers: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.get(url, headers=headers, timeout=30, allow_redirects=False)


def stored(name: str) -> bytes:
    with models_storage.open(name, "rb") as stream:
        return stream.read()


@pytest.mark.parametrize("path", DOWNLOADS)
def test_a_download_is_signed_for_the_public_address(
    in_bucket, alice_client, alice, make_model, public_address, path
):
    model = make_model(alice, "faces")
    answer = alice_client.get(path.format(id=model.pk))
    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}" == public_address.endpoint_url
    assert location.path == f"/{in_bucket}/models/{model.file.name}"
    assert "X-Amz-Signature=" in location.query

    fetched = fetch(answer["Location"])
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == stored(model.file.name)
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="faces.nef"'


def test_a_url_signed_for_the_inside_address_fails_at_the_public_one(
    in_bucket, alice, make_model, public_address, s3_stand_in
):
    # What rewriting the host of a URL signed for the inside address would hand out.
    model = make_model(alice)
    inside = S3Storage.url(models_storage, model.file.name, expire=300)
    assert inside.startswith(s3_stand_in.endpoint_url + "/")
    assert fetch(inside).status_code == 200
    rewritten = urlsplit(inside)._replace(netloc=urlsplit(public_address.endpoint_url).netloc)
    assert fetch(rewritten.geturl()).status_code == 403


def test_the_apps_own_requests_keep_the_inside_address(
    in_bucket, alice_client, alice, make_model, public_address, s3_stand_in
):
    model = make_model(alice)  # written, then checked, through the storage
    assert s3_stand_in.keys(in_bucket) == [f"models/{model.file.name}"]
    assert models_storage.exists(model.file.name)
    assert len(stored(model.file.name)) == model.size_bytes
    answer = alice_client.get(f"/api/models/{model.pk}/download")
    assert answer.status_code == 302
    # Signing sends nothing: the public address has seen no request of the app's.
    assert public_address.requests == []
    client = models_storage.connection.meta.client
    assert client.meta.endpoint_url == s3_stand_in.endpoint_url
