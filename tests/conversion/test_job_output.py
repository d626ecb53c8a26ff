"""The job answer (``JobOutputSerializer``) is written out by hand for speed; it must
say exactly what DRF's generic serializer says from the declared fields, which are
also the OpenAPI document."""

from __future__ import annotations

import time
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from rest_framework import serializers

from conversion.serializers import JobOutputSerializer
from models_repo.models import NefModel
from tests.conversion.factories import make_job
from tests.conversion.test_preflight_pages import WARNINGS

pytestmark = pytest.mark.django_db


def _generic(job) -> dict:
    """DRF's own representation: every declared field, through its field class."""
    return dict(serializers.Serializer.to_representation(JobOutputSerializer(), job))


def _model(owner, name: str, **fields) -> NefModel:
    values = {"source": "converted", "file": "x.nef", "size_bytes": 1, "sha256": "0" * 64}
    return NefModel.objects.create(owner=owner, name=name, **{**values, **fields})


def _jobs(owner):
    now = timezone.now()
    running = make_job(owner, queue_position=3, model_id=32769, version="00a1")
    running.checked_at = time.time() - 4.25
    deleted = _model(owner, "old", deleted_at=now)
    return [
        running,
        make_job(owner, status="created", stage="", progress=None, stage_progress=None),
        make_job(
            owner,
            status="completed",
            progress=100,
            stage_timings={"onnx": 4, "bie": 65.5, "nef": 12},
            updated_at=now - timedelta(seconds=30),
            saved_model=_model(owner, "yolo"),
            preflight_warnings=WARNINGS,
        ),
        make_job(owner, status="completed", stage_timings={"bie": None}, saved_model=deleted),
        make_job(
            owner,
            status="failed",
            error_code="quantization_failed",
            error_message="Calibration images do not match the input shape.",
            error_stage="bie",
        ),
        make_job(owner, status="failed", error_code="converter_lost_job", error_stage="nef"),
        make_job(owner, chip="KL999", stage_timings={}),
    ]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Taipei"])
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_answer_is_what_drf_would_write(alice, zone, language):
    jobs = _jobs(alice)
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        for job in jobs:
            assert JobOutputSerializer(job).data == _generic(job), job.status
        many = JobOutputSerializer(jobs, many=True).data
        assert [dict(item) for item in many] == [_generic(job) for job in jobs]


def test_the_hand_written_answer_has_every_declared_field_and_no_other(alice):
    job = _jobs(alice)[2]
    assert list(JobOutputSerializer(job).data) == list(JobOutputSerializer().fields)


def test_dates_follow_the_active_time_zone(alice):
    job = _jobs(alice)[0]
    with timezone.override(zoneinfo.ZoneInfo("Asia/Taipei")):
        assert JobOutputSerializer(job).data["created_at"].endswith("+08:00")
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert JobOutputSerializer(job).data["created_at"].endswith("Z")
