"""Rollouts with the database task backend: reports enqueue one advance per burst, a
phase's deadline is a task waiting for its time, and the worker does the rest."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult, get_date_max

from deployments import rollout_services
from deployments.models import Deployment, RolloutWake
from deployments.rollout_choices import RolloutState, TargetState
from tests.deployments.rollout_support import fresh, report, targets

pytestmark = pytest.mark.django_db(transaction=True)  # the worker closes its connection

ADVANCE = "deployments.rollout_tasks.rollout_advance"


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def waiting_advances():
    """The advances waiting to run as soon as a worker takes them (not at a set time)."""
    return DBTaskResult.objects.filter(task_path=ADVANCE, status="READY", run_after=get_date_max())


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_a_burst_of_reports_enqueues_one_advance(alice, alice_kl720, fleet):
    group, _devices = fleet(4)
    rollout = rollout_services.rollout_create(
        user=alice, model_id=alice_kl720.pk, group_id=group.pk, phases=["1", "rest"]
    )
    assert waiting_advances().count() == 1  # the creation's wake: nothing started yet
    assert Deployment.objects.count() == 0
    run_worker()
    (first,) = targets(rollout, 1)
    report(first.device, first.deployment, "installed")
    run_worker()
    later = targets(rollout, 2)
    assert {t.state for t in later} == {TargetState.DEPLOYING}

    for target in later:  # three reports, one after the other, no worker in between
        report(target.device, target.deployment, "installed")

    assert waiting_advances().count() == 1
    assert RolloutWake.objects.get(rollout=rollout).requested
    run_worker()
    assert fresh(rollout).state == RolloutState.COMPLETED
    assert not RolloutWake.objects.get(rollout=rollout).requested


def test_the_next_look_is_a_task_waiting_for_its_time(alice, alice_kl720, fleet):
    """With the phase's device yet to take its deployment, the next look is in a minute
    (to nudge it again), before the phase's deadline; a task waits for that time."""
    group, _devices = fleet(2)
    rollout = rollout_services.rollout_create(
        user=alice, model_id=alice_kl720.pk, group_id=group.pk, wait_seconds=900
    )
    run_worker()

    rollout = fresh(rollout)
    phase = rollout.phases.get(number=1)
    assert rollout.next_look_at is not None
    assert phase.started_at < rollout.next_look_at < phase.deadline_at
    deferred = DBTaskResult.objects.filter(task_path=ADVANCE, run_after=rollout.next_look_at)
    assert deferred.count() == 1
    assert deferred.get().args_kwargs["args"] == [str(rollout.pk)]
    run_worker()  # not yet due: it stays
    assert deferred.filter(status="READY").count() == 1
