"""Two writes of one deployment at once are applied one after the other (real PostgreSQL).

Each test holds its writers between reading and writing (at ``_check_report``) until
the other one waits for the row lock, or has decided too: without the row lock, both
would decide on the same state and both would write, so the tests fail if the lock is
taken away.
"""

from __future__ import annotations

import pytest

from deployments import services
from deployments.choices import DeploymentState
from deployments.models import Deployment, DeploymentEvent
from tests.deployments.race_support import Meeting, run_at_once
from visiona.errors import AppError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def meeting() -> Meeting:
    return Meeting()


@pytest.fixture
def slow_decisions(monkeypatch, meeting):
    check = services._check_report

    def slowly(deployment, state):
        allowed = check(deployment, state)
        meeting()  # a second writer arrives while this one has decided
        return allowed

    monkeypatch.setattr(services, "_check_report", slowly)


@pytest.fixture
def verifying(alice, alice_kl720, alice_device):
    deployment = services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )[0].deployment
    for state in ("downloading", "verifying"):
        services.deployment_report(
            device=alice_device.device, deployment_id=deployment.pk, state=state
        )
    return deployment


def final_events(deployment) -> list[str]:
    return list(
        DeploymentEvent.objects.filter(
            deployment=deployment, state__in=DeploymentState.final()
        ).values_list("state", flat=True)
    )


def test_two_final_reports_at_once_one_wins(alice_device, verifying, slow_decisions):
    device = alice_device.device

    def installed():
        return services.deployment_report(
            device=device, deployment_id=verifying.pk, state="installed"
        )

    def failed():
        return services.deployment_report(
            device=device, deployment_id=verifying.pk, state="failed", error_code="crc_mismatch"
        )

    results = run_at_once(installed, failed)
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(refused) == 1 and refused[0].code == "deployment_finished", results
    stored = Deployment.objects.get(pk=verifying.pk)
    winner = next(r for r in results if isinstance(r, Deployment))
    assert stored.state == winner.state
    assert final_events(verifying) == [stored.state]
    assert (stored.error_code == "crc_mismatch") == (stored.state == "failed")


def test_a_report_racing_a_cancel_never_leaves_both(
    alice, alice_device, verifying, slow_decisions, meeting, monkeypatch
):
    device = alice_device.device
    original_finish = services._finish

    def cancel():
        return services.deployment_cancel(user=alice, deployment_id=verifying.pk)

    def installed():
        return services.deployment_report(
            device=device, deployment_id=verifying.pk, state="installed"
        )

    # The cancel meets the report between its decision and its write too.
    def slow_finish(deployment, state, **kwargs):
        if state == "cancelled":
            meeting()
        return original_finish(deployment, state, **kwargs)

    monkeypatch.setattr(services, "_finish", slow_finish)
    results = run_at_once(cancel, installed)
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(refused) == 1, results
    assert refused[0].code in {"deployment_finished", "deployment_cancelled"}
    stored = Deployment.objects.get(pk=verifying.pk)
    assert final_events(verifying) == [stored.state]
    assert stored.state in {"cancelled", "installed"}


def test_two_creates_at_once_make_one_deployment(alice, alice_kl720, alice_device, monkeypatch):
    create_one = services.deployment_create_locked
    meeting = Meeting()

    def slowly(**kwargs):
        meeting()  # the second create arrives while the first holds the device
        return create_one(**kwargs)

    monkeypatch.setattr(services, "deployment_create_locked", slowly)

    def create():
        return services.deployments_create(
            user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
        )[0]

    results = run_at_once(create, create)
    assert sorted(r.outcome for r in results) == ["already_in_progress", "created"], results
    assert results[0].deployment.pk == results[1].deployment.pk
    assert Deployment.objects.count() == 1
