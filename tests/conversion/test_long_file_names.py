"""A model file with a long name (300 ASCII letters, or CJK past 255 bytes in UTF-8)
converts, and saves to My models: stored under a name a file system takes."""

from __future__ import annotations

import json

import pytest
import responses

from conversion.models import ConversionJob
from models_repo.models import NefModel
from models_repo.storage import STORED_NAME_MAX_BYTES
from tests.conversion.test_api_init import post_upload
from tests.conversion.test_api_promote_download import NEF, completed_job
from tests.conversion.test_promote_keep_onnx import ONNX
from tests.conversion.upstreams import CONVERTER, job_json, multipart_body, standard_parts

pytestmark = pytest.mark.django_db

LONG_NAMES = ["m" * 300 + ".onnx", "長い名前のモデル" * 20 + ".onnx"]


def own_name(stored: str) -> str:
    return stored.rsplit("/", 1)[1]


@pytest.mark.parametrize("filename", LONG_NAMES)
def test_the_job_keeps_as_much_of_the_name_as_its_column_takes(alice_client, upstream, filename):
    def create(request):
        # The converter echoes the name it was sent.
        job = job_json(status="created", stage=None, input={"filename": filename})
        return 201, {}, json.dumps(job)

    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    upstream.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=create)
    parts = [(n, filename if n == "model" else f, b) for n, f, b in standard_parts()]
    response = post_upload(alice_client, multipart_body(parts))
    assert response.status_code == 201, response.content
    job = ConversionJob.objects.get(job_id=response.json()["job_id"])
    column = ConversionJob._meta.get_field("filename").max_length
    assert len(job.filename) <= column and job.filename.endswith(".onnx")
    assert filename.startswith(job.filename[:-5])


@pytest.mark.parametrize("filename", ["m" * 250 + ".onnx", "長い名前のモデル" * 20 + ".onnx"])
def test_a_long_named_job_saves_to_my_models(alice_client, alice, upstream, filename):
    job = completed_job(alice)
    ConversionJob.objects.filter(job_id=job["job_id"]).update(filename=filename)
    _serve_promotes(upstream)
    url = f"/api/conversion/{job['job_id']}/promote-to-models"
    body = {"name": "short", "keep_onnx": True}
    response = alice_client.post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    model = NefModel.objects.get()
    assert model.name == "short" and model.file.read() == NEF
    assert model.source_label == filename  # the name as the user knows it
    for stored, extension in [(model.file.name, ".nef"), (model.reference_file.name, ".onnx")]:
        assert own_name(stored).endswith(extension)
        assert len(own_name(stored).encode()) <= STORED_NAME_MAX_BYTES
    assert model.reference_file.read() == ONNX


def test_without_a_name_the_model_is_named_after_the_file_within_its_column(
    alice_client, alice, upstream
):
    job = completed_job(alice)
    ConversionJob.objects.filter(job_id=job["job_id"]).update(filename="m" * 250 + ".onnx")
    _serve_promotes(upstream)
    response = alice_client.post(f"/api/conversion/{job['job_id']}/promote-to-models")
    assert response.status_code == 200, response.content
    assert NefModel.objects.get().name == "m" * 200


def _serve_promotes(upstream) -> None:
    import re

    from tests.conversion.upstreams import FAA

    def promote(request):
        target = json.loads(request.body)["targets"][0]
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
