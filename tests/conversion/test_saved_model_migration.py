"""The data migration that moved the job -> model link from models_repo
(``NefModel.source_job``) to conversion (``ConversionJob.saved_model``) carries
every existing link over, and back when unapplied. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("conversion", "0001_initial"), ("models_repo", "0002_storage_and_checks")]
AFTER = [
    ("conversion", "0003_carry_saved_model_links"),
    ("models_repo", "0004_remove_nefmodel_source_job"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _old_rows(apps):
    User = apps.get_model("visiona", "User")
    Job = apps.get_model("conversion", "ConversionJob")
    Model = apps.get_model("models_repo", "NefModel")
    owner = User.objects.create(username="alice")
    now = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    common = {"owner": owner, "chip": "KL720", "status": "completed", "created_at": now}
    saved = Job.objects.create(job_id="job-saved", filename="yolo.onnx", expires_at=now, **common)
    Job.objects.create(job_id="job-unsaved", filename="other.onnx", expires_at=now, **common)
    row = {"owner": owner, "file": "x.nef", "size_bytes": 1, "sha256": "0" * 64}
    converted = Model.objects.create(name="yolo", source="converted", source_job=saved, **row)
    uploaded = Model.objects.create(name="mine", source="uploaded", **row)
    return converted.pk, uploaded.pk


def test_existing_links_are_carried_over_and_back():
    try:
        converted_pk, uploaded_pk = _old_rows(_migrate(BEFORE))

        apps = _migrate(AFTER)
        Job = apps.get_model("conversion", "ConversionJob")
        Model = apps.get_model("models_repo", "NefModel")
        assert Job.objects.get(job_id="job-saved").saved_model_id == converted_pk
        assert Job.objects.get(job_id="job-unsaved").saved_model_id is None
        converted = Model.objects.get(pk=converted_pk)
        assert (converted.source_reference, converted.source_label) == ("job-saved", "yolo.onnx")
        uploaded = Model.objects.get(pk=uploaded_pk)
        assert (uploaded.source_reference, uploaded.source_label) == ("", "")

        apps = _migrate(BEFORE)
        Model = apps.get_model("models_repo", "NefModel")
        assert Model.objects.get(pk=converted_pk).source_job_id == "job-saved"
        assert Model.objects.get(pk=uploaded_pk).source_job_id is None
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
