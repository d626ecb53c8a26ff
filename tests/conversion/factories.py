"""Conversion job rows as the database would hold them, for page and admin tests."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from conversion.models import ConversionJob


def make_job(owner, *, status="running", **fields):
    now = timezone.now()
    values = {
        "job_id": str(uuid.uuid4()),
        "owner": owner,
        "chip": "KL720",
        "filename": "yolo.onnx",
        "status": status,
        "stage": "bie" if status == "running" else "",
        "progress": 40,
        "created_at": now - timedelta(minutes=3),
        "expires_at": now + timedelta(days=7),
    }
    if status in ("completed", "failed"):
        values["finished_at"] = now - timedelta(minutes=1)
    values.update(fields)
    return ConversionJob.objects.create(**values)
