"""Conversion owns its link to the saved model (``ConversionJob.saved_model``); the
repository keeps only provenance data. One job, one model; the detail page of a
converted model links back to its conversion through the link conversion registers."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from models_repo.models import NefModel
from tests.conversion.factories import make_job

pytestmark = pytest.mark.django_db


def _model(owner, name: str, **fields) -> NefModel:
    values = {"source": "converted", "file": "x.nef", "size_bytes": 1, "sha256": "0" * 64}
    return NefModel.objects.create(owner=owner, name=name, **{**values, **fields})


def test_the_database_refuses_one_model_linked_to_two_jobs(alice):
    model = _model(alice, "yolo")
    first, second = make_job(alice, status="completed"), make_job(alice, status="completed")
    first.saved_model = model
    first.save()
    second.saved_model = model
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_hard_deleted_model_leaves_the_job_unlinked(alice):
    job = make_job(alice, status="completed", saved_model=_model(alice, "yolo"))
    NefModel.objects.all().delete()
    job.refresh_from_db()
    assert job.saved_model is None


def test_a_converted_models_page_links_to_its_conversion(alice, alice_client):
    job = make_job(alice, status="completed", job_id="job-123")
    model = _model(alice, "yolo", source_reference="job-123", source_label="yolo.onnx")
    job.saved_model = model
    job.save()
    page = alice_client.get(f"/models/{model.pk}/").content.decode()
    assert '<a href="/convert/job-123/">yolo.onnx</a>' in page


def test_no_link_to_a_conversion_that_is_not_the_owners(alice, bob, alice_client):
    make_job(bob, status="completed", job_id="job-123")
    model = _model(alice, "yolo", source_reference="job-123", source_label="yolo.onnx")
    page = alice_client.get(f"/models/{model.pk}/").content.decode()
    assert "yolo.onnx" in page and 'href="/convert/job-123/"' not in page


def test_a_saved_jobs_page_links_the_model_and_offers_deploy(alice, alice_client):
    model = _model(alice, "yolo")
    job = make_job(alice, status="completed", saved_model=model)
    page = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert f'id="saved-model-link" href="/models/{model.pk}/"' in page
    assert f'id="saved-model-deploy" href="/devices/deploy/{model.pk}/"' in page
    assert "save it to My models to keep it" not in page
    assert "yours stays in My models" in page


def test_an_unsaved_jobs_page_still_says_to_save_it(alice, alice_client):
    job = make_job(alice, status="completed")
    page = alice_client.get(f"/convert/{job.job_id}/").content.decode()
    assert 'id="save-form"' in page and "save it to My models to keep it" in page
    assert 'id="saved-model-deploy"' not in page


def test_history_says_why_a_job_failed(alice, alice_client):
    make_job(
        alice,
        status="failed",
        filename="net.onnx",
        error_code="quantization_failed",
        error_stage="bie",
        error_message="Quantization failed.",
    )
    make_job(alice, status="completed", filename="fine.onnx")
    page = alice_client.get("/conversions/").content.decode()
    assert page.count('class="small failure-reason"') == 1
    assert "Quantization failed: the model could not be converted to BIE." in page
