"""The background worker's tasks for runs (django-tasks; ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_compute_agreement(run_id: str) -> None:
    """Compare a completed run's outputs with the model's original ONNX."""
    from deployments.run_agreement import compute

    compute(run_id)
