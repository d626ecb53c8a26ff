"""A rollout's state is decided under its row lock, whoever acts (real PostgreSQL).

The writers are held between their decision and their write, so without the locks
both would act on the same state: these tests fail if a lock is taken away.
"""

from __future__ import annotations

import time

import pytest

from deployments import rollout_actions, rollout_engine, rollout_services, rollout_wakes
from deployments.models import Deployment, Rollout, RolloutTarget
from deployments.rollout_choices import RolloutState
from deployments.rollout_errors import RolloutInProgress
from tests.deployments.rollout_support import report
from tests.deployments.test_deployment_concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_rollouts_of_one_group_at_once_one_is_refused(alice, alice_kl720, fleet, monkeypatch):
    group, _devices = fleet(3)
    eligible = rollout_services._eligible

    def slowly(**kwargs):
        result = eligible(**kwargs)
        time.sleep(0.3)  # the second request arrives while the first has decided
        return result

    monkeypatch.setattr(rollout_services, "_eligible", slowly)

    def create():
        return rollout_services.rollout_create(
            user=alice, model_id=alice_kl720.pk, group_id=group.pk
        )

    results = run_at_once(create, create)

    assert sorted(type(r).__name__ for r in results) == ["Rollout", "RolloutInProgress"]
    refused = next(r for r in results if isinstance(r, RolloutInProgress))
    assert refused.details == {"rollout_id": str(Rollout.objects.get().pk)}
    assert RolloutTarget.objects.count() == 3  # one rollout's devices, not two


def test_a_rollback_racing_the_worker_wins_whole(alice, alice_kl720, fleet, monkeypatch):
    """The worker starts phase 2 while the user rolls back: one after the other, so
    either phase 2's deployments are made and then cancelled, or never made."""
    # Only the two below advance it: the reports wake no task here.
    monkeypatch.setattr(rollout_wakes, "wake", lambda rollout_id: False)
    group, _devices = fleet(3)
    rollout = rollout_services.rollout_create(
        user=alice, model_id=alice_kl720.pk, group_id=group.pk, phases=["1", "rest"]
    )
    rollout_engine.advance(rollout_id=rollout.pk)
    first = Deployment.objects.get(rollout=rollout)
    report(first.device, first, "installed")
    start_phase = rollout_engine._start_phase

    def slowly(*args, **kwargs):
        time.sleep(0.3)  # the rollback arrives while the worker starts the phase
        return start_phase(*args, **kwargs)

    monkeypatch.setattr(rollout_engine, "_start_phase", slowly)

    def roll_back():
        time.sleep(0.1)
        return rollout_actions.rollout_rollback(user=alice, rollout_id=rollout.pk)

    run_at_once(lambda: rollout_engine.advance(rollout_id=rollout.pk), roll_back)

    rollout.refresh_from_db()
    assert rollout.state == RolloutState.ROLLED_BACK  # its one install had nothing before
    unfinished = Deployment.objects.filter(
        rollout=rollout, kind="install", state__in=("pending", "downloading", "verifying")
    )
    assert not unfinished.exists()  # nothing of phase 2 left going after the rollback
    assert Deployment.objects.filter(rollout=rollout, kind="rollback").count() == 0
