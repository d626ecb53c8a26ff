"""The convert page, like the API, takes an upload without a model id and version,
and refuses a given one that breaks the API's rules before uploading."""

from __future__ import annotations

import re

import pytest

from conversion.models import ConversionJob
from tests import onnx_models

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def model_file(tmp_path):
    # A real model: the upload proxy refuses a file that is not ONNX.
    model = onnx_models.save(onnx_models.model(("Relu",), weights=5_000), tmp_path / "tiny.onnx")
    return str(model)


def test_an_upload_without_model_id_and_version(page, model_file):
    page.set_input_files("#id_model", model_file)
    page.fill("#id_model_id", "")
    page.fill("#id_version", "")
    page.click("#convert-submit")
    page.wait_for_url(re.compile(r"/convert/[0-9a-f-]{36}/$"))
    job = ConversionJob.objects.get()
    assert (job.model_id, job.version) == (None, "")


def test_a_model_id_outside_the_range_is_refused_before_uploading(page, model_file):
    page.set_input_files("#id_model", model_file)
    page.fill("#id_model_id", "5")
    page.click("#convert-submit")
    page.locator("#model_id-error").wait_for(state="visible")
    assert page.locator("#upload-progress").is_hidden()
    assert ConversionJob.objects.count() == 0
