"""``visiona cancel``, ``jobs --status cancelled``, the refusal before an upload and
``jobs --save`` of a job saved before, against a live visionA with the sandbox as its
upstreams and the deployment service playing the device."""

# The fixtures come from other test modules (imported below): their names are reused.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from conversion.models import ConversionJob
from deployments.models import Deployment
from deployments.services import deployments_create
from tests.client.test_cli_live import cli, env, files, token  # noqa: F401  (fixtures)
from tests.deployments.conftest import alice_devices, make_model  # noqa: F401
from tests.devices.conftest import issue_code, pair  # noqa: F401
from tests.e2e.conftest import sandbox  # noqa: F401

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_a_second_conversion_is_refused_before_its_upload_and_the_first_cancelled(
    cli, files, sandbox, monkeypatch
):
    sandbox.SANDBOX_STAGE_SECONDS = 120
    first = cli("convert", str(files["model"]), "--chip", "720", "--no-check", "--json")
    assert first.code == 0, first.err
    job_id = first.data["job"]["job_id"]
    uploads = []
    monkeypatch.setattr(
        "visiona_client.visiona_cli.convert.upload_conversion",
        lambda *args, **kwargs: uploads.append(args),
    )

    again = cli("convert", str(files["model"]), "--chip", "720", "--no-check", "--json")
    assert (again.code, again.data["error"]["code"]) == (1, "active_job_exists")
    assert again.data["error"]["details"]["active_job"]["job_id"] == job_id
    assert uploads == []
    assert f"visiona cancel job {job_id}" in again.err

    cancelled = cli("cancel", "job", job_id, "--json")
    assert cancelled.code == 0, cancelled.err
    assert cancelled.data["job"]["error"]["code"] == "cancelled"
    assert ConversionJob.objects.get(job_id=job_id).is_finished
    listed = cli("jobs", "--status", "cancelled", "--json")
    assert [job["job_id"] for job in listed.data["jobs"]] == [job_id]
    twice = cli("cancel", "job", job_id)
    assert twice.code == 1
    assert f"Job {job_id} has already finished (cancelled): nothing was cancelled." in twice.err


def test_a_deployment_cancelled_then_cancelled_again(cli, alice, alice_devices, make_model):
    (paired,) = alice_devices(1)
    model = make_model(alice, "detector", chips=("KL720",))
    (result,) = deployments_create(user=alice, model_id=model.pk, device_ids=[paired.device.pk])
    deployment_id = str(result.deployment.pk)

    cancelled = cli("cancel", "deployment", deployment_id)
    assert cancelled.code == 0, cancelled.err
    assert cancelled.out == f"{deployment_id} cancelled\n"
    assert Deployment.objects.get(pk=deployment_id).state == "cancelled"
    again = cli("cancel", "deployment", deployment_id, "--json")
    assert (again.code, again.data["error"]["code"]) == (1, "deployment_finished")
    assert again.data["error"]["details"]["state"] == "cancelled"
    unknown = cli("cancel", "run", "7e1f3c2a-1111-4111-8111-000000000001", "--json")
    assert (unknown.code, unknown.data["error"]["code"]) == (2, "run_not_found")


def test_a_job_saved_twice_keeps_its_first_name(cli, files):
    saved = cli("convert", str(files["model"]), "--chip", "720", "--no-check", "--save", "v1")
    assert saved.code == 0, saved.err
    job_id = ConversionJob.objects.get().job_id
    again = cli("jobs", job_id, "--save", "v2", "--json")
    assert again.code == 0, again.err
    assert (again.data["model"]["name"], again.data["already_saved"]) == ("v1", True)
    assert "was already saved to My models as “v1”" in again.err
    assert "not “v2”" in again.err
