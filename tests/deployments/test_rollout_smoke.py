"""The health gate's smoke run: each device runs the new model on an earlier run's inputs,
and with a least cosine, its agreement with the original ONNX must reach it (runs:
issue 24). The agents are played by the test through the agent API."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from deployments import rollout_engine, rollout_services, rollout_smoke, rollout_texts
from deployments.models import Rollout, RolloutTarget, Run
from deployments.rollout_choices import RolloutState, TargetState
from deployments.rollout_errors import SmokeRunInvalid
from devices import services as device_services
from tests.deployments.rollout_support import connect, report
from tests.deployments.run_support import IMAGES, installed_model
from tests.deployments.test_run_api import agent_runs_all_inputs
from visiona.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(alice, alice_client, alice_device, agent_client, committing):
    """A model with its ONNX, and a completed run of it (with its agreement) on Alice's
    first device: the smoke run's inputs."""
    model, _built, nef = installed_model(alice, alice_device.device)
    files = [
        SimpleUploadedFile(f"img{i}.png", data, "image/png") for i, data in enumerate(IMAGES[:2])
    ]
    body = {"model_id": model.pk, "device_id": str(alice_device.device.pk), "repeat": 2}
    made = alice_client.post("/api/runs", {**body, "inputs": files}).json()
    committing(agent_runs_all_inputs, agent_client(alice_device.token), made["id"], nef)
    run = Run.objects.get(pk=made["id"])
    assert (run.state, run.reference_state) == ("completed", "done")
    return model, nef, run


@pytest.fixture
def rack(alice, alice_devices):
    """Two more devices, online, in a group: their PairingResults (tokens included)."""
    from deployments import group_services

    paired = alice_devices(2)
    for result in paired:
        device_services.device_heartbeat(device=result.device, agent_status="ready")
        connect(result.device)  # its tunnel open: online (devices/presence.py)
    group = group_services.group_create(
        user=alice, name="rack", device_ids=[r.device.pk for r in paired]
    )
    return group, {str(r.device.pk): r for r in paired}


def start(alice, model, group, run, committing, least):
    return committing(
        rollout_services.rollout_create,
        user=alice,
        model_id=model.pk,
        group_id=group.pk,
        phases=["1", "rest"],
        smoke_run_id=run.pk,
        smoke_min_cosine=least,
    )


def first_target(rollout) -> RolloutTarget:
    return RolloutTarget.objects.select_related("device", "deployment", "smoke_run").get(
        rollout=rollout, phase__number=1
    )


def install_and_smoke(rollout, paired, nef, agent_client, committing) -> RolloutTarget:
    target = first_target(rollout)
    committing(report, target.device, target.deployment, "installed")
    target = first_target(rollout)
    assert (target.state, target.reason_code) == (TargetState.CHECKING, "smoke_run")
    assert target.smoke_run.model_id == rollout.model_id
    assert target.smoke_run.inputs_count == 2
    agent = agent_client(paired[str(target.device_id)].token)
    committing(agent_runs_all_inputs, agent, str(target.smoke_run_id), nef)
    rollout_engine.advance(rollout_id=rollout.pk)  # the worker's next look
    return first_target(rollout)


def test_a_device_passes_once_its_smoke_run_agrees(alice, template, rack, agent_client, committing):
    model, nef, run = template
    group, paired = rack
    rollout = start(alice, model, group, run, committing, least=0.9)

    target = install_and_smoke(rollout, paired, nef, agent_client, committing)

    assert target.state == TargetState.PASSED
    assert target.smoke_run.state == "completed"
    assert {t.state for t in RolloutTarget.objects.filter(phase__number=2)} == {"deploying"}


def test_too_low_an_agreement_fails_the_device_and_pauses(
    alice, template, rack, agent_client, committing
):
    model, nef, run = template
    group, paired = rack
    rollout = start(alice, model, group, run, committing, least=0.99999)

    target = install_and_smoke(rollout, paired, nef, agent_client, committing)

    assert (target.state, target.reason_code) == (TargetState.FAILED, "smoke_agreement")
    assert "lowest cosine" in target.reason
    rollout = Rollout.objects.get(pk=rollout.pk)
    assert (rollout.state, rollout.pause_code) == (RolloutState.PAUSED, "phase_failed")


def test_the_smoke_run_must_be_a_completed_run_of_the_model(alice, template, rack, make_model):
    model, _nef, run = template
    group, _paired = rack
    other = make_model(alice, "other", chips=("KL720",))
    with pytest.raises(SmokeRunInvalid):
        rollout_services.rollout_create(
            user=alice, model_id=other.pk, group_id=group.pk, smoke_run_id=run.pk
        )
    with pytest.raises(SmokeRunInvalid):
        rollout_services.rollout_create(
            user=alice, model_id=model.pk, group_id=group.pk, smoke_min_cosine=0.9
        )
    assert not Rollout.objects.exists()


def test_a_smoke_runs_verdict_is_written_in_the_readers_language(
    alice, template, rack, agent_client, committing
):
    # The worker judged it (in English); the reader gets it in theirs, from the run.
    model, nef, run = template
    group, paired = rack
    rollout = start(alice, model, group, run, committing, least=0.99999)
    target = install_and_smoke(rollout, paired, nef, agent_client, committing)
    assert target.reason_code == "smoke_agreement"
    with translation.override("zh-hant"):
        shown = rollout_texts.target_reason(target, model_chips=["KL720"])
    cosine = target.smoke_run.agreement["cosine"]
    assert f"{cosine:.4f}" in shown and f"{rollout.smoke_min_cosine:.4f}" in shown
    assert "lowest cosine" not in shown and re.search(r"[\u4e00-\u9fff]", shown)
    with translation.override("en"):
        assert rollout_texts.target_reason(target, model_chips=["KL720"]) == target.reason


def test_a_failed_or_refused_smoke_run_reads_from_the_run(alice, template, rack, committing):
    model, _nef, run = template
    group, _paired = rack
    rollout = start(alice, model, group, run, committing, least=None)
    target = first_target(rollout)
    target.smoke_run = run
    target.reason_code, target.reason = "smoke_run_failed", "Its smoke run failed: old words"
    run.error_message = "NPU busy"
    assert rollout_texts.target_reason(target, model_chips=[]) == ("Its smoke run failed: NPU busy")
    run.error_message = ""
    run.state = "failed"
    assert rollout_texts.target_reason(target, model_chips=[]) == (
        f"Its smoke run failed: {run.get_state_display()}"
    )
    target.reason_code = "smoke_inputs_failed"
    run.inputs.filter(index=0).update(state="failed")
    assert rollout_texts.target_reason(target, model_chips=[]) == (
        "Its smoke run: the device refused 1 of 2 inputs."
    )
    # No run to read (gone): what the worker wrote.
    target.smoke_run = None
    assert (
        rollout_texts.target_reason(target, model_chips=[])
        == "Its smoke run failed: old words (smoke_inputs_failed)"
    )


def test_a_refused_smoke_run_is_shown_in_the_readers_language(
    alice, alice_client, template, rack, committing, settings
):
    # The worker stores the refusal's code; the page writes its sentence when shown.
    model, _nef, run = template
    group, _paired = rack
    rollout = start(alice, model, group, run, committing, least=None)
    settings.RUNS_MAX_INPUT_BYTES = 1  # the smoke run's inputs are now too large to run
    target = first_target(rollout)
    committing(report, target.device, target.deployment, "installed")

    target = first_target(rollout)
    assert (target.state, target.reason_code) == (TargetState.FAILED, "smoke_run_refused")
    assert target.reason == "payload_too_large"
    english = "Its smoke run could not start: its inputs are larger than a run now allows."
    assert english in alice_client.get(f"/devices/rollouts/{rollout.pk}/").content.decode()
    api = alice_client.get(f"/api/rollouts/{rollout.pk}", HTTP_ACCEPT_LANGUAGE="zh-hant").json()
    shown = next(d["reason"] for d in api["devices"] if d["device"]["id"] == str(target.device_id))
    assert "payload_too_large" not in shown and re.search(r"[\u4e00-\u9fff]", shown)
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    page = alice_client.get(f"/devices/rollouts/{rollout.pk}/").content.decode()
    assert shown in page and english not in page
    # A row written before codes were stored keeps its sentence.
    target.reason = "Its inputs were refused"
    with translation.override("en"):
        assert rollout_texts.target_reason(target, model_chips=[]) == (
            "Its smoke run could not start: Its inputs were refused"
        )


def start_expecting(alice, model, group, run, committing, expect, least=None):
    return committing(
        rollout_services.rollout_create,
        user=alice,
        model_id=model.pk,
        group_id=group.pk,
        phases=["1", "rest"],
        smoke_run_id=run.pk,
        smoke_min_cosine=least,
        smoke_expect=expect,
    )


def test_a_device_passes_once_its_smoke_run_meets_the_expectations(
    alice, template, rack, agent_client, committing
):
    model, nef, run = template
    group, paired = rack
    rollout = start_expecting(
        alice, model, group, run, committing, " cosine >= 0.9, p90_ms>=0 ", least=0.5
    )
    # Written back in one form, the older least cosine as one more expectation.
    assert rollout.smoke_expect == "cosine>=0.9,p90_ms>=0,cosine>=0.5"

    target = install_and_smoke(rollout, paired, nef, agent_client, committing)

    assert target.state == TargetState.PASSED


def test_an_expectation_missed_fails_the_device_and_says_which_in_the_readers_language(
    alice, alice_client, template, rack, agent_client, committing
):
    model, nef, run = template
    group, paired = rack
    rollout = start_expecting(alice, model, group, run, committing, "cosine>=0.5,p50_ms<0")

    target = install_and_smoke(rollout, paired, nef, agent_client, committing)

    assert (target.state, target.reason_code) == (TargetState.FAILED, "smoke_expectation")
    p50 = target.smoke_run.latency["p50_ms"]
    missed = f"p50_ms<0: {p50:.4g}"
    assert target.reason == missed  # only the one it missed
    with translation.override("en"):
        assert rollout_texts.target_reason(target, model_chips=[]) == (
            f"Its smoke run missed what was expected: {missed}."
        )
    with translation.override("zh-hant"):
        chinese = rollout_texts.target_reason(target, model_chips=[])
    assert missed in chinese and re.search(r"[\u4e00-\u9fff]", chinese)
    rollout = Rollout.objects.get(pk=rollout.pk)
    assert (rollout.state, rollout.pause_code) == (RolloutState.PAUSED, "phase_failed")
    html = alice_client.get(f"/devices/rollouts/{rollout.pk}/").content.decode()
    assert "Expected of each smoke run: <code>cosine&gt;=0.5,p50_ms&lt;0</code>." in html


def test_expectations_are_checked_when_the_rollout_is_made(alice, template, rack):
    model, _nef, run = template
    group, _paired = rack
    for bad in ("cosine=0.9", "speed>=1", "cosine>=x", ","):
        with pytest.raises(ValidationFailed) as refused:
            rollout_services.rollout_create(
                user=alice,
                model_id=model.pk,
                group_id=group.pk,
                smoke_run_id=run.pk,
                smoke_expect=bad,
            )
        assert refused.value.details["fields"][0]["field"] == "smoke_expect"
    with pytest.raises(SmokeRunInvalid):
        rollout_services.rollout_create(
            user=alice, model_id=model.pk, group_id=group.pk, smoke_expect="cosine>=0.9"
        )
    assert not Rollout.objects.exists()


def test_the_api_and_the_form_take_expectations(alice, alice_client, template, rack):
    model, _nef, run = template
    group, _paired = rack
    body = {"model_id": model.pk, "group_id": str(group.pk), "smoke_run_id": str(run.pk)}

    refused = alice_client.post(
        "/api/rollouts", {**body, "smoke_expect": "cosine=0.9"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["fields"][0]["field"] == "smoke_expect"
    form = {
        "group": str(group.pk),
        "model": str(model.pk),
        "phases": "1, rest",
        "max_failure_percent": "10",
        "wait_minutes": "30",
        "smoke_run": str(run.pk),
        "smoke_expect": "top1>>1",
    }
    page = alice_client.post("/devices/rollouts/new/", form)
    assert page.status_code == 400
    assert "Write each expectation as FIGURE&gt;=NUMBER" in page.content.decode()
    assert not Rollout.objects.exists()

    made = alice_client.post(
        "/api/rollouts",
        {**body, "smoke_expect": "top1>=0.5, p90_ms<=1000"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["smoke_expect"] == "top1>=0.5,p90_ms<=1000"
    assert made.json()["smoke_min_cosine"] is None


@pytest.mark.parametrize(
    ("code", "verdict_of"),
    [
        # The run chosen for its inputs, deleted as the engine starts the device's own.
        ("smoke_inputs_gone", lambda rollout, target: rollout_smoke._start(rollout, target)),
        # The device's own run, deleted as the engine judges it.
        ("smoke_run_gone", lambda rollout, target: rollout_smoke._judge(rollout, None)),
    ],
)
def test_a_smoke_run_gone_is_shown_as_the_worker_stored_it(code, verdict_of):
    rollout = Rollout(smoke_run=None)
    target = RolloutTarget(rollout=rollout)
    with translation.override("en"):
        verdict = verdict_of(rollout, target)
        target.state, target.reason_code, target.reason = (
            verdict.state,
            verdict.code,
            verdict.reason,
        )
        assert (verdict.state, verdict.code) == (TargetState.FAILED, code)
        assert rollout_texts.target_reason(target, model_chips=[]) == target.reason
    with translation.override("zh-hant"):
        shown = rollout_texts.target_reason(target, model_chips=[])
    assert re.search(r"[\u4e00-\u9fff]", shown)


def test_a_device_whose_smoke_run_is_deleted_gets_a_new_one(alice, template, rack, committing):
    model, _nef, run = template
    group, _paired = rack
    rollout = start(alice, model, group, run, committing, least=None)
    target = first_target(rollout)
    committing(report, target.device, target.deployment, "installed")
    first_run = first_target(rollout).smoke_run
    first_run.delete()

    committing(rollout_engine.advance, rollout_id=rollout.pk)

    target = first_target(rollout)
    assert (target.state, target.reason_code) == (TargetState.CHECKING, "smoke_run")
    assert target.smoke_run_id not in (None, first_run.pk)


def test_deleting_the_smoke_runs_template_keeps_the_gate(
    alice, alice_client, template, rack, committing
):
    """The run chosen for its inputs is SET_NULL on delete: the rollout must not read that
    as "no gate" and pass its devices unchecked; its page and the API say so."""
    model, _nef, run = template
    group, _paired = rack
    rollout = start(alice, model, group, run, committing, least=None)
    page = alice_client.get(f"/devices/rollouts/{rollout.pk}/")
    assert page.status_code == 200
    assert b'data-role="smoke-inputs-gone"' not in page.content
    run.delete()

    page = alice_client.get(f"/devices/rollouts/{rollout.pk}/")
    assert b'data-role="smoke-inputs-gone"' in page.content
    data = alice_client.get(f"/api/rollouts/{rollout.pk}").json()
    assert (data["smoke_run"], data["smoke_gate"]) == (None, True)

    target = first_target(rollout)
    committing(report, target.device, target.deployment, "installed")
    committing(rollout_engine.advance, rollout_id=rollout.pk)

    target = first_target(rollout)
    assert Rollout.objects.get(pk=rollout.pk).smoke_run_id is None
    assert (target.state, target.reason_code) == (TargetState.FAILED, "smoke_inputs_gone")
    assert target.smoke_run_id is None


def test_the_migration_gates_rollouts_made_with_a_smoke_run(alice, template, rack, committing):
    """Rollouts made before ``smoke_gate`` existed get it from their smoke run."""
    from importlib import import_module

    from django.apps import apps

    model, _nef, run = template
    group, _paired = rack
    gated = start(alice, model, group, run, committing, least=None)
    Rollout.objects.filter(pk=gated.pk).update(smoke_gate=False)  # as the column came
    migration = import_module("deployments.migrations.0009_rollout_smoke_gate")

    migration.gate_rollouts_with_a_smoke_run(apps, None)

    assert Rollout.objects.get(pk=gated.pk).smoke_gate is True


def test_forgetting_the_onnx_is_warned_of_and_fails_the_remaining_smoke_runs(
    alice, alice_client, template, rack, agent_client, committing
):
    # The page that asks before forgetting the ONNX names the rollout; it says true.
    model, nef, run = template
    group, paired = rack
    rollout = start(alice, model, group, run, committing, least=0.9)
    forget_url = f"/models/{model.pk}/reference/forget/"
    asked = alice_client.get(forget_url).content.decode()
    assert 'data-role="reference-needs"' in asked
    assert "The rollout to rack, under way, compares each device" in asked
    assert f'href="/devices/rollouts/{rollout.pk}/"' in asked

    committing(alice_client.post, forget_url)
    target = install_and_smoke(rollout, paired, nef, agent_client, committing)

    assert (target.state, target.reason_code) == (TargetState.FAILED, "smoke_no_agreement")
