"""The background worker's tasks for rollouts (django-tasks; ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def rollout_advance(rollout_id: str) -> None:
    """Look at a rollout: its devices' reports, its checks, its deadlines, its next phase."""
    from deployments import rollout_engine  # the engine imports what enqueues this task

    rollout_engine.advance(rollout_id=rollout_id)
