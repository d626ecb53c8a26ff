"""Save to My models keeping the source ONNX: the converter's promote of the ``onnx``
source, streamed from FAA into the model's reference."""

from __future__ import annotations

import json
import re

import pytest
import responses

from models_repo.models import NefModel
from tests.conversion.test_api_promote_download import completed_job
from tests.conversion.upstreams import CONVERTER, FAA

pytestmark = pytest.mark.django_db
NEF = b"NEF-sandbox" + bytes(range(256)) * 100
ONNX = b"onnx-source" * 500


@pytest.fixture
def upstream_promotes(upstream):
    asked = []

    def promote(request):
        target = json.loads(request.body)["targets"][0]
        asked.append(target)
        size = len(ONNX if target["source"] == "onnx" else NEF)
        answer = {"target_object_key": target["target_object_key"], "size_bytes": size}
        return 200, {}, json.dumps({"promoted": [{**answer, "file_access_agent_etag": "e"}]})

    def faa_get(request):
        body = ONNX if request.url.endswith("model.onnx") else NEF
        return 200, {"Content-Length": str(len(body))}, body

    upstream.add_callback(
        responses.POST, re.compile(rf"{CONVERTER}/api/v1/jobs/.+/promote"), callback=promote
    )
    upstream.add_callback(responses.GET, re.compile(rf"{FAA}/files/.+"), callback=faa_get)
    return asked


def test_it_keeps_the_onnx_beside_the_nef(alice_client, alice, upstream_promotes):
    job = completed_job(alice)
    url = f"/api/conversion/{job['job_id']}/promote-to-models"
    response = alice_client.post(url, {"keep_onnx": True}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["model"]["has_reference"] is True
    assert [target["source"] for target in upstream_promotes] == ["nef", "onnx"]
    assert upstream_promotes[1]["target_object_key"].endswith("/model.onnx")
    model = NefModel.objects.get()
    assert model.reference_size_bytes == len(ONNX)
    assert alice_client.get(f"/api/models/{model.pk}/reference").getvalue() == ONNX
    # Saved again with the ONNX: nothing promoted twice.
    again = alice_client.post(url, {"keep_onnx": True}, content_type="application/json")
    assert again.json()["model"]["id"] == model.pk and len(upstream_promotes) == 2


def test_without_it_only_the_nef_is_saved(alice_client, alice, upstream_promotes):
    job = completed_job(alice)
    response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.json()["model"]["has_reference"] is False
    assert [target["source"] for target in upstream_promotes] == ["nef"]
