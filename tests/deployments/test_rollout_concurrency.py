"""A rollout's state is decided under its row lock, whoever acts (real PostgreSQL).

The writers are held between their decision and their write until the other one waits
for the lock (or, without it, went on too), so without the locks both would act on the
same state: these tests fail if a lock is taken away.
"""

from __future__ import annotations

import threading

import pytest

from deployments import rollout_actions, rollout_engine, rollout_services, rollout_wakes
from deployments.models import Deployment, Rollout, RolloutTarget
from deployments.rollout_choices import RolloutState
from deployments.rollout_errors import RolloutInProgress
from tests.deployments.race_support import (
    WAIT_SECONDS,
    Meeting,
    hold_until_blocked,
    run_at_once,
)
from tests.deployments.rollout_support import report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_rollouts_of_one_group_at_once_one_is_refused(alice, alice_kl720, fleet, monkeypatch):
    group, _devices = fleet(3)
    eligible = rollout_services._eligible
    meeting = Meeting()

    def slowly(**kwargs):
        result = eligible(**kwargs)
        meeting()  # the second request arrives while the first has decided
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
    starting, rolled_back = threading.Event(), threading.Event()

    def slowly(*args, **kwargs):
        starting.set()
        # The rollback arrives while the worker starts the phase.
        hold_until_blocked(or_when=rolled_back.is_set)
        return start_phase(*args, **kwargs)

    monkeypatch.setattr(rollout_engine, "_start_phase", slowly)

    def roll_back():
        assert starting.wait(timeout=WAIT_SECONDS)  # the worker holds the rollout first
        try:
            return rollout_actions.rollout_rollback(user=alice, rollout_id=rollout.pk)
        finally:
            rolled_back.set()

    run_at_once(lambda: rollout_engine.advance(rollout_id=rollout.pk), roll_back)

    rollout.refresh_from_db()
    assert rollout.state == RolloutState.ROLLED_BACK  # its one install had nothing before
    unfinished = Deployment.objects.filter(
        rollout=rollout, kind="install", state__in=("pending", "downloading", "verifying")
    )
    assert not unfinished.exists()  # nothing of phase 2 left going after the rollback
    assert Deployment.objects.filter(rollout=rollout, kind="rollback").count() == 0
