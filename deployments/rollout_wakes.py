"""Waking a rollout: the background worker advances it, never a request thread.

- ``wake_after_commit``: a report (or cancel) of one of its deployments committed: ask
  the worker to look at the rollout, unless a request is already waiting (RolloutWake).
- ``schedule``: look again at a given time (a phase's deadline, a check waiting for a
  device to reconnect): a task enqueued with ``run_after``. Each look schedules the next
  one it needs, so a rollout with something to wait for always has a task waiting, and a
  finished one none (docs/deployments.md, "How a rollout advances").
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.db import transaction

from deployments.rollout_models import RolloutWake
from deployments.rollout_tasks import rollout_advance

logger = logging.getLogger(__name__)


def wake_after_commit(rollout_id: uuid.UUID | str) -> None:
    rollout_id = str(rollout_id)
    transaction.on_commit(lambda: wake(rollout_id))


def wake(rollout_id: uuid.UUID | str) -> bool:
    """Enqueue the advance now unless one is already waiting; True when enqueued."""
    rollout_id = str(rollout_id)
    if not RolloutWake.objects.filter(rollout_id=rollout_id, requested=False).update(
        requested=True
    ):
        return False
    try:
        rollout_advance.enqueue(rollout_id)
    except Exception:
        # Not enqueued: the next report must try again, so the flag goes back down.
        RolloutWake.objects.filter(rollout_id=rollout_id).update(requested=False)
        logger.exception("rollout advance not enqueued", extra={"rollout_id": rollout_id})
        return False
    return True


def taken(rollout_id: uuid.UUID | str) -> None:
    """The task starts: a report from now on enqueues another (it may come after our reads)."""
    RolloutWake.objects.filter(rollout_id=str(rollout_id)).update(requested=False)


def schedule(rollout_id: uuid.UUID | str, at: datetime) -> bool:
    """Advance the rollout again at ``at``; False when the backend cannot defer a task
    (the immediate backend of the tests: they call the engine with the time they want)."""
    if not rollout_advance.get_backend().supports_defer:
        return False
    rollout_advance.using(run_after=at).enqueue(str(rollout_id))
    return True
