"""The conversion pages: convert, job, history, and the active-job banner."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from models_repo.models import NefModel
from tests.conversion.factories import make_job
from tests.conversion.upstreams import CONVERTER, job_json

pytestmark = pytest.mark.django_db


# --- access --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/convert/", "/conversions/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_job_page_needs_sign_in(client, alice):
    job = make_job(alice, status="completed")
    response = client.get(f"/convert/{job.job_id}/")
    assert response.status_code == 302


def test_another_users_job_is_not_found(bob_client, alice):
    job = make_job(alice, status="completed")
    response = bob_client.get(f"/convert/{job.job_id}/")
    assert response.status_code == 404
    assert b"yolo.onnx" not in response.content


def test_an_unknown_job_is_not_found(alice_client):
    assert alice_client.get(f"/convert/{uuid.uuid4()}/").status_code == 404


# --- convert page ------------------------------------------------------------------


def test_the_convert_page_says_plainly_when_conversion_is_off(alice_client, settings):
    settings.CONVERTER_BASE_URL = ""
    response = alice_client.get("/convert/")
    assert response.status_code == 200
    assert b"not configured" in response.content
    assert b'id="convert-form"' not in response.content


def test_the_convert_page_offers_every_chip(alice_client, upstream):
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    response = alice_client.get("/convert/")
    content = response.content.decode()
    assert response.status_code == 200
    for chip in ("KL520", "KL720", "KL530", "KL630", "KL730"):
        assert f'value="{chip}"' in content
    assert 'id="convert-form"' in content
    assert "js/convert.js" in content
    assert 'value="32769"' in content and 'value="0001"' in content


def test_the_convert_page_links_to_the_active_job_instead_of_the_form(
    alice_client, alice, upstream
):
    job = make_job(alice)
    upstream.add(
        responses.GET,
        f"{CONVERTER}/api/v1/jobs/{job.job_id}",
        json=job_json(job.job_id, status="running", stage="nef", progress=70),
    )
    response = alice_client.get("/convert/")
    content = response.content.decode()
    assert f"/convert/{job.job_id}/" in content
    assert 'id="convert-form"' not in content
    assert "70%" in content


def test_a_converter_outage_still_renders_the_page(alice_client, upstream):
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", status=502)
    response = alice_client.get("/convert/")
    assert response.status_code == 200
    assert b"converter is not answering" in response.content


# --- job page --------------------------------------------------------------------------


def test_a_running_job_is_refreshed_and_rendered_without_javascript(alice_client, alice, upstream):
    job = make_job(alice)
    upstream.add(
        responses.GET,
        f"{CONVERTER}/api/v1/jobs/{job.job_id}",
        json=job_json(job.job_id, status="running", stage="nef", progress=80, stage_progress=30),
    )
    response = alice_client.get(f"/convert/{job.job_id}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'class="step step-done" data-stage="bie"' in content
    assert 'class="step step-current" data-stage="nef"' in content
    assert 'id="overall-bar" max="100" value="80"' in content
    assert 'id="refresh-link"' in content
    job.refresh_from_db()
    assert job.stage == "nef"


def test_a_completed_job_offers_download_and_save(alice_client, alice):
    job = make_job(alice, status="completed", filename="resnet.onnx")
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert f"/api/conversion/{job.job_id}/download" in content
    assert 'id="save-form"' in content
    assert 'value="resnet"' in content  # name pre-filled from the file name


def test_a_saved_job_links_to_its_model(alice_client, alice):
    job = make_job(alice, status="completed")
    job.saved_model = NefModel.objects.create(
        owner=alice, name="yolo v8", source="converted", size_bytes=1, sha256="0" * 64
    )
    job.save()
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert "yolo v8" in content
    assert 'id="save-form"' not in content


def test_a_failed_job_shows_stage_code_message_and_advice(alice_client, alice):
    job = make_job(
        alice,
        status="failed",
        error_code="quantization_failed",
        error_message="Not enough images",
        error_stage="bie",
    )
    content = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert "quantization_failed" in content
    assert "Not enough images" in content
    assert "reference images" in content  # the hint for the quantization stage
    assert 'class="step step-failed" data-stage="bie"' in content


def test_the_job_page_speaks_traditional_chinese(alice_client, alice):
    job = make_job(alice, status="completed")
    alice_client.cookies["django_language"] = "zh-hant"
    content = alice_client.get(f"/convert/{job.job_id}/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert "下載 NEF" in content.content.decode()


# --- history ------------------------------------------------------------------------------


def test_history_lists_only_the_users_jobs_newest_first(alice_client, alice, bob):
    old = make_job(
        alice,
        status="completed",
        filename="old.onnx",
        created_at=timezone.now() - timedelta(days=2),
    )
    new = make_job(alice, status="failed", filename="new.onnx")
    make_job(bob, status="completed", filename="bobs.onnx")
    content = alice_client.get("/conversions/").content.decode()
    assert content.index("new.onnx") < content.index("old.onnx")
    assert "bobs.onnx" not in content
    assert f"/api/conversion/{old.job_id}/download" in content
    assert f"/api/conversion/{new.job_id}/download" not in content


def test_history_is_paginated(alice_client, alice):
    for index in range(25):
        make_job(
            alice,
            status="completed",
            filename=f"m{index:02}.onnx",
            created_at=timezone.now() - timedelta(minutes=index),
        )
    first = alice_client.get("/conversions/").content.decode()
    second = alice_client.get("/conversions/?page=2").content.decode()
    assert "m00.onnx" in first and "m19.onnx" in first and "m20.onnx" not in first
    assert "m20.onnx" in second and "m24.onnx" in second
    assert 'rel="next"' in first


def test_history_query_count_does_not_grow_with_jobs(
    alice_client, alice, django_assert_max_num_queries
):
    for _ in range(15):
        job = make_job(alice, status="completed")
        job.saved_model = NefModel.objects.create(
            owner=alice, name=f"n{job.pk}", source="converted", size_bytes=1, sha256="0" * 64
        )
        job.save()
    with django_assert_max_num_queries(8):
        alice_client.get("/conversions/")


# --- banner -----------------------------------------------------------------------------------


def test_every_page_shows_the_active_conversion_banner(alice_client, alice):
    job = make_job(alice)
    content = alice_client.get("/devices/").content.decode()
    assert "A conversion is in progress" in content
    assert f"/convert/{job.job_id}/" in content


def test_no_banner_without_an_unfinished_job(alice_client, alice):
    make_job(alice, status="completed")
    assert b"A conversion is in progress" not in alice_client.get("/devices/").content
