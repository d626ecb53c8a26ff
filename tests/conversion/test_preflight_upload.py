"""The upload proxy's ONNX pre-flight: a blocker ends the upload with a 400 before the
converter has the whole form (no job exists); warnings are kept with the job."""

from __future__ import annotations

import json

import pytest
import responses

from conversion.models import ConversionJob
from tests import onnx_models as om
from tests.conversion.upstreams import (
    BOUNDARY,
    CONVERTER,
    job_json,
    multipart_body,
    parse_upstream_form,
    standard_parts,
)

pytestmark = pytest.mark.django_db
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def post_upload(client, body: bytes, **extra):
    return client.generic("POST", "/api/conversion/init", body, content_type=CONTENT_TYPE, **extra)


@pytest.fixture
def converter(upstream):
    """The converter's create-job endpoint; ``received`` holds each form it read whole."""
    calls = {"started": 0, "received": []}

    def create(request):
        calls["started"] += 1
        calls["received"].append(parse_upstream_form(request))  # reads the streamed body
        return 201, {}, json.dumps(job_json(status="created", stage=None))

    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    upstream.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=create)
    return calls


def custom_domain_model() -> bytes:
    return om.bytes_of(om.model(("Relu", "FancyNms"), domain="com.vendor", weights=300_000))


def test_a_custom_domain_model_is_refused_before_the_job_exists(alice_client, converter):
    response = post_upload(alice_client, multipart_body(standard_parts(custom_domain_model())))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert "com.vendor::FancyNms" in error["message"]
    assert error["details"]["fields"][0]["field"] == "model"
    report = error["details"]["preflight"]
    assert report["chip"] == "KL720" and report["ok"] is False
    assert [b["code"] for b in report["blockers"]] == ["custom_domain"]
    assert set(report) >= {"chip", "blockers", "warnings", "summary"}
    # The converter never read a whole form, so it has no job; neither have we.
    assert converter["received"] == []
    assert ConversionJob.objects.count() == 0


def test_a_reference_image_that_is_text_is_refused_before_the_job_exists(alice_client, converter):
    parts = [*standard_parts(), ("ref_images", "notes.png", b"not a picture at all")]
    response = post_upload(alice_client, multipart_body(parts))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"]["fields"] == [
        {"field": "ref_images", "message": "notes.png is not a JPEG or PNG image."}
    ]
    assert converter["received"] == []
    assert ConversionJob.objects.count() == 0


def test_the_image_refusal_speaks_chinese(alice_client, converter):
    parts = [*standard_parts(), ("ref_images", "notes.png", b"not a picture at all")]
    response = post_upload(alice_client, multipart_body(parts), HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert response.json()["error"]["details"]["fields"][0]["message"] == (
        "notes.png 不是 JPEG 或 PNG 圖片。"
    )


def test_the_model_is_refused_even_when_the_chip_comes_after_it(alice_client, converter):
    parts = standard_parts(custom_domain_model())
    parts = parts[3:4] + parts[:3] + parts[4:]  # model first, then platform…
    response = post_upload(alice_client, multipart_body(parts))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["preflight"]["chip"] is None
    assert converter["received"] == []


@pytest.mark.parametrize(
    ("model", "code"),
    [
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n", "lfs_pointer"),
        (b"\x00\xff not a model " * 500, "not_onnx"),
        (om.bytes_of(om.model(opset=19)), "opset_unsupported"),
        (om.bytes_of(om.model(inputs=2)), "multiple_inputs"),
    ],
)
def test_other_blockers_are_refused_too(alice_client, converter, model, code):
    response = post_upload(alice_client, multipart_body(standard_parts(model)))
    assert response.status_code == 400
    blockers = response.json()["error"]["details"]["preflight"]["blockers"]
    assert [b["code"] for b in blockers] == [code]
    assert converter["received"] == [] and ConversionJob.objects.count() == 0


def test_the_refusal_is_worded_in_the_users_language(alice_client, converter):
    body = multipart_body(standard_parts(custom_domain_model()))
    response = post_upload(alice_client, body, HTTP_ACCEPT_LANGUAGE="zh-hant")
    message = response.json()["error"]["message"]
    assert "com.vendor::FancyNms" in message
    assert "custom domain" not in message  # translated, not the English sentence


def test_a_model_with_warnings_is_accepted_and_they_are_kept(alice_client, converter):
    model = om.bytes_of(om.model(("Conv", "Softmax"), input_shape=["N", 3, 8, 8]))
    response = post_upload(alice_client, multipart_body(standard_parts(model)))
    assert response.status_code == 201, response.content
    # The model went through byte for byte, its held-back last piece included.
    (form,) = converter["received"]
    assert {name: content for name, _f, content in form}["model"] == model
    job = ConversionJob.objects.get(job_id=response.json()["job_id"])
    assert [w["code"] for w in job.preflight_warnings] == ["cpu_operator", "dynamic_shape"]
    assert job.preflight_warnings[0]["details"]["note"] == 39
    warnings = response.json()["preflight_warnings"]
    assert [w["code"] for w in warnings] == ["cpu_operator", "dynamic_shape"]
    assert "Softmax" in warnings[0]["message"]
    assert warnings[0]["note"] == "will be decompose to ReduceSum + Div + Exp"


def test_a_clean_model_has_no_warnings(alice_client, converter):
    response = post_upload(alice_client, multipart_body(standard_parts()))
    assert response.status_code == 201
    assert response.json()["preflight_warnings"] == []
