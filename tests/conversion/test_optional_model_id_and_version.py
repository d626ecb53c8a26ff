"""Model id and version are optional, on the page as in the API (the converter's
form requires only user_id and platform); when given, both apply the same rules."""

from __future__ import annotations

import re

import pytest

from conversion.models import ConversionJob
from tests.conversion.test_api_init import post_upload
from tests.conversion.upstreams import multipart_body, standard_parts

pytestmark = pytest.mark.django_db


def _without(*names: str) -> list:
    return [part for part in standard_parts() if part[0] not in names]


def test_the_api_takes_an_upload_without_model_id_and_version(alice_client, converter_accepts):
    response = post_upload(alice_client, multipart_body(_without("model_id", "version")))
    assert response.status_code == 201, response.content
    assert (response.json()["model_id"], response.json()["version"]) == (None, "")
    job = ConversionJob.objects.get()
    assert (job.model_id, job.version) == (None, "")
    sent = [name for name, _filename, _value in converter_accepts[0]]
    assert "model_id" not in sent and "version" not in sent


@pytest.mark.parametrize(("name", "value"), [("model_id", b"5"), ("version", b"1.0")])
def test_a_given_value_follows_the_pages_rules(alice_client, converter_accepts, name, value):
    parts = [(n, f, value if n == name else v) for n, f, v in standard_parts()]
    response = post_upload(alice_client, multipart_body(parts))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"][0]["field"] == name
    assert not converter_accepts


def test_the_page_does_not_require_them(alice_client, upstream):
    page = alice_client.get("/convert/").content.decode()
    for name in ("model_id", "version"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert " required" not in tag, tag
    # Chip and model stay required, as the API says.
    assert re.search(r'<input[^>]*name="model"[^>]*required', page)


def test_the_schema_marks_them_optional(alice_client):
    document = alice_client.get("/api/schema/", {"format": "json"}).json()
    form = document["components"]["schemas"]["ConversionUploadRequest"]
    assert set(form["required"]) == {"platform", "model"}
