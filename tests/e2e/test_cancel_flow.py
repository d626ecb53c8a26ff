"""Cancel over real HTTP against the sandbox converter, which implements DELETE
(and, switched off, answers 501 like today's converter)."""

from __future__ import annotations

import pytest

from conversion.models import ConversionJob
from tests.e2e.conftest import standard_form

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_a_running_job_is_cancelled_through_the_page_and_the_api(alice_http, sandbox):
    sandbox.SANDBOX_STAGE_SECONDS = 120
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    page = alice_http.get(f"/convert/{job_id}/").text
    assert 'id="cancel-button"' in page
    response = alice_http.post(f"/api/conversion/{job_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["error"]["code"] == "cancelled"
    assert ConversionJob.objects.get(job_id=job_id).is_finished
    again = alice_http.post(f"/api/conversion/{job_id}/cancel")
    assert again.json()["error"]["code"] == "job_not_cancellable"


def test_where_the_converter_cannot_cancel_the_button_is_absent_and_the_api_says_501(
    alice_http, sandbox
):
    sandbox.SANDBOX_STAGE_SECONDS = 120
    sandbox.SANDBOX_CANCEL_SUPPORTED = False
    job_id = alice_http.upload(standard_form()).json()["job_id"]
    assert 'id="cancel-button"' not in alice_http.get(f"/convert/{job_id}/").text
    response = alice_http.post(f"/api/conversion/{job_id}/cancel")
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "cancel_not_supported"
    assert not ConversionJob.objects.get(job_id=job_id).is_finished


def test_the_converters_health_is_in_system_health(alice_http, sandbox):
    assert alice_http.get("/api/system/health").json()["converter"]["status"] == "healthy"
