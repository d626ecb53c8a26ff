"""Who sends a model file's bytes: nginx when it offers (X-Accel-Redirect), the bucket
when the storage is S3 (a presigned redirect), the app otherwise. Through real nginx:
tests/deploy/test_models_download_offload.py."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from models_repo.choices import ModelSource
from models_repo.services import model_create_from_stream

from .conftest import nef_bytes

pytestmark = pytest.mark.django_db

OFFER = {"HTTP_X_VISIONA_OFFLOAD": "files"}


def test_without_an_offer_the_app_streams(alice_client, alice, make_model):
    model = make_model(alice, "plain")
    response = alice_client.get(f"/api/models/{model.pk}/download")
    assert response.streaming
    assert "X-Accel-Redirect" not in response


@pytest.mark.parametrize("path", ["/api/models/{id}/download", "/models/{id}/download/"])
def test_an_offering_nginx_gets_the_file_to_send(alice_client, alice, make_model, path):
    model = make_model(alice, "Gesichter")
    streamed = alice_client.get(path.format(id=model.pk))
    offloaded = alice_client.get(path.format(id=model.pk), **OFFER)
    assert offloaded.status_code == 200
    assert offloaded.content == b""
    assert offloaded["X-Accel-Redirect"] == f"/_internal/files/whole/{model.file.name}"
    for header in ("Content-Type", "Content-Disposition", "Repr-Digest"):
        assert offloaded[header] == streamed[header]


def test_a_stored_name_is_quoted_in_the_redirect(alice_client, alice):
    model = model_create_from_stream(
        owner=alice,
        name="accented",
        chips=["KL520"],
        source=ModelSource.UPLOADED,
        filename="dé人.nef",
        chunks=[nef_bytes(100)],
    )
    offloaded = alice_client.get(f"/api/models/{model.pk}/download", **OFFER)
    assert offloaded["X-Accel-Redirect"].endswith("/d%C3%A9%E4%BA%BA.nef")
    assert offloaded["X-Accel-Redirect"] == f"/_internal/files/whole/{quote(model.file.name)}"


def test_a_missing_file_is_the_apps_own_error_not_nginxs_404(alice_client, alice, make_model):
    model = make_model(alice, "gone")
    model.file.storage.delete(model.file.name)
    offloaded = alice_client.get(f"/api/models/{model.pk}/download", **OFFER)
    assert offloaded.status_code == 503
    assert offloaded.json()["error"]["code"] == "model_file_unavailable"


def test_an_offer_is_ignored_for_a_file_in_a_bucket(alice_client, alice, make_model, settings):
    model = make_model(alice, "in a bucket")
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "visiona-models",
                "region_name": "eu-west-1",
                "signature_version": "s3v4",  # as visiona/settings/web.py sets it
                "access_key": "AKIAEXAMPLEEXAMPLE00",
                "secret_key": "example-secret-key-example-secret-key-00",
                "location": "models",
            },
        },
    }
    response = alice_client.get(f"/api/models/{model.pk}/download", **OFFER)
    assert response.status_code == 302
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    url = urlsplit(response["Location"])
    assert url.hostname.startswith("visiona-models.")
    assert url.path == f"/models/{model.file.name}"
    query = parse_qs(url.query)
    assert query["response-content-disposition"] == ['attachment; filename="in a bucket.nef"']
    assert query["response-content-type"] == ["application/octet-stream"]
    # Signed with SigV4 (visiona/settings/web.py), and for a short time.
    assert "X-Amz-Signature" in query
    assert int(query["X-Amz-Expires"][0]) == 300


def test_a_models_reference_onnx_is_handed_over_too(alice_client, alice, make_model):
    from models_repo.reference import model_reference_store

    model = model_reference_store(
        model=make_model(alice, "with a reference"), filename="net.onnx", chunks=[b"onnx"]
    )
    streamed = alice_client.get(f"/api/models/{model.pk}/reference")
    offloaded = alice_client.get(f"/api/models/{model.pk}/reference", **OFFER)
    assert b"".join(streamed.streaming_content) == b"onnx"
    assert offloaded.content == b""
    assert offloaded["X-Accel-Redirect"] == f"/_internal/files/whole/{model.reference_file.name}"
    assert offloaded["Content-Disposition"] == streamed["Content-Disposition"]
