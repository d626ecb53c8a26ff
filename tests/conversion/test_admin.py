"""Admins read conversion jobs; they never create or edit what the converter reported."""

import pytest
from django.urls import reverse

from tests.conversion.factories import make_job

pytestmark = pytest.mark.django_db


def test_the_job_list_filters_and_searches(admin_client, alice):
    make_job(alice, status="failed", filename="broken.onnx", error_code="quantization_failed")
    make_job(alice, status="completed", filename="fine.onnx")
    url = reverse("admin:conversion_conversionjob_changelist")
    failed = admin_client.get(url, {"status__exact": "failed"}).content.decode()
    assert "broken.onnx" in failed and "fine.onnx" not in failed
    found = admin_client.get(url, {"q": "fine"}).content.decode()
    assert "fine.onnx" in found and "broken.onnx" not in found


def test_a_job_is_read_only_and_cannot_be_added(admin_client, alice):
    job = make_job(alice, status="completed")
    page = admin_client.get(reverse("admin:conversion_conversionjob_change", args=[job.pk]))
    assert page.status_code == 200
    assert b'name="job_id"' not in page.content
    assert b'name="status"' not in page.content
    add = admin_client.get(reverse("admin:conversion_conversionjob_add"))
    assert add.status_code == 403
