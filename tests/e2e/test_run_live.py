"""The whole road with real parts: the sample model converted in the sandbox (its NEF
carrying the int8 model), saved with its ONNX, deployed to a real demo agent (its own
process) through the real relay, and run there by ``visiona``: latency measured by the
demo, agreement with the ONNX, a gate that passes and a too-strict gate that fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.models import Run
from devices.models import Device
from tests.client.test_cli_live import cli, env, token  # noqa: F401  (fixtures)
from tests.e2e.conftest import sandbox  # noqa: F401  (a fixture)
from tests.relay.conftest import wait_connected
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(__file__).resolve().parents[2] / "static" / "samples"


@pytest.fixture
def demo_device(relay, agents, tmp_path):
    state_dir = agents.pair()
    device = Device.objects.latest("created_at")
    agents.run(state_dir, "--models-dir", str(tmp_path / "device-models"))
    wait_connected(relay, str(device.pk))
    return device


def test_convert_deploy_run_and_gate(cli, demo_device, tmp_path):  # noqa: F811
    calibration = SAMPLES / "calibration"
    ran = cli(
        "convert",
        str(SAMPLES / "sample-classifier.onnx"),
        "--chip",
        "720",
        "--images",
        str(calibration),
        "--save",
        "sample",
        "--run-on",
        demo_device.name,
        "--expect",
        "cosine>=0.99,top1>=0.9",
        "--json",
    )
    assert ran.code == 0, ran.err
    run = ran.data["run"]
    assert run["state"] == "completed" and run["runtime"] == "demo, CPU"
    assert run["inputs_count"] == len(list(calibration.glob("*.png")))
    assert run["latency"]["p50_ms"] > 0 and run["latency"]["count"] == 10 * run["inputs_count"]
    # Computed here against the ONNX just converted: int8 changes the outputs a little.
    assert 0.99 <= ran.data["agreement"]["cosine"] < 1.0
    assert ran.data["model"]["has_reference"] is True
    assert all(check["passed"] for check in ran.data["expectations"])

    # visionA's background worker compared it too, with the same figures.
    stored = wait_for(
        lambda: Run.objects.filter(pk=run["id"], reference_state="done").first(), timeout=30
    )
    assert stored.agreement["cosine"] == pytest.approx(ran.data["agreement"]["cosine"])

    # Again with `visiona run`: visionA's agreement this time; then a gate too strict.
    passed = cli(
        "run", "sample", "--device", demo_device.name, "--inputs", str(calibration),
        "--expect", "cosine>=0.99", "--repeat", "3", "--json",
    )  # fmt: skip
    assert passed.code == 0, passed.err
    assert passed.data["run"]["reference"]["state"] == "done"
    strict = cli(
        "run", "sample", "--device", demo_device.name, "--inputs", str(calibration),
        "--reference", str(SAMPLES / "sample-classifier.onnx"),
        "--expect", "cosine>=0.99,max_abs<=0", "--repeat", "1", "--json",
    )  # fmt: skip
    assert strict.code == 5, strict.err
    checks = {c["expectation"]: c["passed"] for c in strict.data["expectations"]}
    assert checks == {"cosine>=0.99": True, "max_abs<=0": False}


def test_a_real_nef_is_refused_by_the_demo_and_the_run_fails_saying_so(
    demo_device, alice, alice_http, make_model
):
    from tests.e2e.deployment_support import deploy, wait_state

    model = make_model(alice, "Real NEF", chips=("KL720",), size=64 * 1024)
    created = deploy(alice_http, model.pk, str(demo_device.pk)).json()["results"][0]
    assert wait_state(created["deployment"]["id"], "installed", "failed").state == "installed"
    image = (SAMPLES / "calibration" / "red-disc.png").read_bytes()
    answer = alice_http.post(
        "/api/runs",
        data={"model_id": model.pk, "device_id": str(demo_device.pk)},
        files=[("inputs", ("red-disc.png", image, "image/png"))],
    )
    assert answer.status_code == 201, answer.text
    run = wait_for(
        lambda: Run.objects.filter(pk=answer.json()["id"], state="failed").first(), timeout=30
    )
    assert run.error_code == "model_not_runnable"
    assert "real Kneron NEF" in run.error_message
