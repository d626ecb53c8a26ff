"""Over real sockets, with the sandbox as the converter: a model with a custom-domain
operator is refused in seconds, with the operator named, and the converter has no job."""

from __future__ import annotations

import pytest

from conversion.models import ConversionJob
from sandbox import store
from tests import onnx_models

from .conftest import standard_form

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_a_custom_domain_model_never_becomes_a_job(alice_http):
    model = onnx_models.bytes_of(
        onnx_models.model(("Conv", "DeformConv2d"), domain="com.vendor", weights=2_000_000)
    )
    response = alice_http.upload(standard_form(model))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "com.vendor::DeformConv2d" in error["message"]
    assert error["details"]["preflight"]["blockers"][0]["code"] == "custom_domain"
    assert list(store.all_jobs()) == []
    assert ConversionJob.objects.count() == 0


def test_a_model_with_warnings_becomes_a_job_that_carries_them(alice_http):
    model = onnx_models.bytes_of(onnx_models.model(("Conv", "Softmax")))
    response = alice_http.upload(standard_form(model))
    assert response.status_code == 201, response.text
    job = response.json()
    assert [w["code"] for w in job["preflight_warnings"]] == ["cpu_operator"]
    page = alice_http.get(f"/convert/{job['job_id']}/")
    assert "preflight-warnings" in page.text and "Softmax" in page.text
