"""A transfer that is not the model (its stored file altered after its sha256 was
recorded) is reported failed (checksum_mismatch); the model it would have replaced
stays installed."""

from __future__ import annotations

import pytest

from tests.e2e.deployment_support import deploy, manifest, sha256_of, wait_state

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_corrupted_transfer_fails_and_the_previous_model_stays(
    connected_agent,
    alice,
    alice_http,
    make_model,
):
    models_dir = connected_agent.state_dir / "models"
    device_id = connected_agent.device_id
    good = make_model(alice, "Detector", chips=("KL720",), size=64 * 1024)
    first = deploy(alice_http, good.pk, device_id).json()["results"][0]["deployment"]["id"]
    assert wait_state(first, "installed", "failed").state == "installed"

    # Another model, named alike ("Detector!"): its own file, and a corrupt one.
    bad = make_model(alice, "Detector!", chips=("KL720",), size=64 * 1024)
    path = bad.file.path
    with open(path, "r+b") as stored:
        stored.seek(1000)
        byte = stored.read(1)
        stored.seek(1000)
        stored.write(bytes([byte[0] ^ 0xFF]))
    second = deploy(alice_http, bad.pk, device_id).json()["results"][0]["deployment"]["id"]
    failed = wait_state(second, "installed", "failed")

    assert failed.state == "failed"
    assert failed.error_code == "checksum_mismatch"
    assert failed.error_message
    assert sha256_of(models_dir / f"detector-{good.pk}.nef") == good.sha256
    assert not (models_dir / f"detector-{bad.pk}.nef").exists()
    assert [entry["sha256"] for entry in manifest(models_dir)] == [good.sha256]
    assert not list((models_dir / ".partial").iterdir())
    detail = alice_http.get(f"/api/deployments/{second}").json()
    assert detail["events"][-1]["error_code"] == "checksum_mismatch"
