"""Rollouts through the API: create, follow, act; bad input in the envelope."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, Rollout
from tests.deployments.rollout_support import fail, report

pytestmark = pytest.mark.django_db


def start(api, model, group, **options):
    body = {"model_id": model.pk, "group_id": str(group.pk), **options}
    return api.post("/api/rollouts", body, format="json")


def test_create_and_follow_with_counts_and_reasons(
    api, alice, alice_kl720, fleet, alice_devices, committing
):
    from deployments import group_services

    group, _devices = fleet(3)
    other = alice_devices(1, chip="KL520")[0].device
    group_services.group_add_devices(user=alice, group_id=group.pk, device_ids=[other.pk])

    created = committing(start, api, alice_kl720, group, phases=["1", "rest"])

    assert created.status_code == 201, created.content
    # The answer is the rollout as planned; the worker (here at once) starts phase 1.
    assert created.json()["counts"]["planned"] == 3
    body = api.get(f"/api/rollouts/{created.json()['id']}").json()
    assert (body["state"], body["model"]["id"], body["group"]["name"]) == (
        "running",
        alice_kl720.pk,
        group.name,
    )
    assert body["counts"] == {
        "total": 4,
        "skipped": 1,
        "planned": 2,
        "deploying": 1,
        "checking": 0,
        "passed": 0,
        "failed": 0,
        "offline": 0,
        "cancelled": 0,
    }
    assert [(p["number"], p["size"], p["state"]) for p in body["phases"]] == [
        (1, "1", "running"),
        (2, "rest", "waiting"),
    ]
    skipped = next(d for d in body["devices"] if d["state"] == "skipped")
    assert skipped["reason_code"] == "chip_mismatch"
    assert skipped["reason"] == "Built for KL720; this device has a KL520."
    first = next(d for d in body["devices"] if d["state"] == "deploying")
    assert first["deployment"]["state"] == "pending"

    listed = api.get("/api/rollouts").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    assert "devices" not in listed["results"][0]


def test_a_paused_rollout_says_why_then_retry_and_rollback(
    api, alice, alice_kl720, fleet, committing
):
    group, _devices = fleet(2)
    made = committing(start, api, alice_kl720, group, phases=["1", "rest"]).json()
    body = api.get(f"/api/rollouts/{made['id']}").json()
    deployment = Deployment.objects.get(pk=body["devices"][0]["deployment"]["id"])
    committing(fail, deployment.device, deployment)

    paused = api.get(f"/api/rollouts/{body['id']}").json()
    assert paused["state"] == "paused"
    assert paused["pause"]["code"] == "phase_failed"
    assert paused["pause"]["message"].startswith("Phase 1: 1 of 1 devices failed")

    assert api.post(f"/api/rollouts/{body['id']}/resume").status_code == 200
    assert api.post(f"/api/rollouts/{body['id']}/pause").status_code == 200
    conflict = api.post(f"/api/rollouts/{body['id']}/pause")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "rollout_state_conflict"

    retried = committing(api.post, f"/api/rollouts/{body['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["counts"]["failed"] == 0

    rolled = committing(api.post, f"/api/rollouts/{body['id']}/rollback")
    assert rolled.status_code == 200
    assert rolled.json()["state"] == "rolled_back"  # nothing was installed: nothing to send
    assert {d["rollback"]["state"] for d in rolled.json()["devices"]} == {"skipped"}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"phases": ["rest", "1"]}, "phases"),
        ({"phases": []}, "phases"),
        ({"max_failure_percent": 101}, "max_failure_percent"),
        ({"wait_seconds": 1}, "wait_seconds"),
    ],
)
def test_bad_options_are_refused_in_the_envelope(api, alice_kl720, fleet, options, field):
    group, _devices = fleet(1)
    refused = start(api, alice_kl720, group, **options)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in {entry["field"] for entry in error["details"]["fields"]}
    assert not Rollout.objects.exists()


def test_refusals_in_the_envelope(api, alice, bob, alice_kl720, make_model, fleet, committing):
    from deployments import group_services

    group, _devices = fleet(1)
    empty = group_services.group_create(user=alice, name="empty")
    bobs = make_model(bob, chips=("KL720",))
    kl520 = make_model(alice, chips=("KL520",))

    cases = [
        (start(api, alice_kl720, empty), 400, "group_empty"),
        (start(api, bobs, group), 404, "model_not_found"),
        (start(api, kl520, group), 400, "no_device_of_chip"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not Rollout.objects.exists()
    committing(start, api, alice_kl720, group)
    second = start(api, alice_kl720, group)
    assert (second.status_code, second.json()["error"]["code"]) == (409, "rollout_in_progress")
    assert Rollout.objects.count() == 1


def test_another_users_rollout_is_not_found(api, bob_api, alice_kl720, fleet, committing):
    group, _devices = fleet(1)
    body = committing(start, api, alice_kl720, group).json()
    assert bob_api.get(f"/api/rollouts/{body['id']}").status_code == 404
    refused = bob_api.post(f"/api/rollouts/{body['id']}/rollback")
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "rollout_not_found")
    assert Rollout.objects.get().state == "running"


def test_a_completed_rollout_is_shown_with_its_rollback(api, alice, make_model, fleet, committing):
    from deployments.services import deployments_create

    group, devices = fleet(1)
    old = make_model(alice, "v1", chips=("KL720",))
    new = make_model(alice, "v2", chips=("KL720",))
    (result,) = deployments_create(user=alice, model_id=old.pk, device_ids=[devices[0].pk])
    report(devices[0], result.deployment, "installed")
    made = committing(start, api, new, group).json()
    body = api.get(f"/api/rollouts/{made['id']}").json()
    deployment = Deployment.objects.get(pk=body["devices"][0]["deployment"]["id"])
    committing(report, devices[0], deployment, "installed")
    assert api.get(f"/api/rollouts/{body['id']}").json()["state"] == "completed"

    rolled = committing(api.post, f"/api/rollouts/{body['id']}/rollback").json()

    assert rolled["state"] == "rolling_back"
    (device,) = rolled["devices"]
    assert device["rollback"]["state"] == "sent"
    assert device["rollback"]["model"] == {"id": old.pk, "name": "v1", "sha256": old.sha256}
    assert rolled["rollback_counts"] == {"sent": 1}
