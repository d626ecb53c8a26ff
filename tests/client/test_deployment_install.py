"""Verify before install, install atomically, keep the previous model, report truly."""

from __future__ import annotations

import hashlib
import json
import zlib

import pytest
from visiona_client.backoff import Backoff
from visiona_client.deployment_job import Job, Stopped, WorkItem
from visiona_client.models_folder import InstallError, VerifyError, model_slug, verify

from tests.client.fake_visiona import Deployment, nef_bytes

SIZE = 200_000


@pytest.fixture
def first(fake_visiona, deploy, models):
    """Version 1 of the model, installed by a first deployment."""
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE, "v1")))
    deploy(deployment)
    assert deployment.state == "installed"
    return deployment


def model_file(models, name="Person detector"):
    return models.root / f"{model_slug(name, 7)}.nef"


def test_a_second_version_replaces_the_first_which_is_kept_for_rollback(
    first, fake_visiona, deploy, models
):
    manifest_before = models.entries()
    second = fake_visiona.add(Deployment(nef_bytes(SIZE + 10, "v2")))
    deploy(second)
    assert model_file(models).read_bytes() == second.data
    assert (models.previous_dir / "person-detector-7.nef").read_bytes() == first.data
    previous_entry = json.loads((models.previous_dir / "person-detector-7.json").read_text())
    assert previous_entry == manifest_before[0]
    [entry] = models.entries()
    assert entry["sha256"] == second.sha256
    assert entry["size_bytes"] == SIZE + 10
    assert entry["deployment_id"] == second.id
    assert entry["model_id"] == 7
    assert entry["file"] == "person-detector-7.nef"
    assert entry["name"] == "Person detector"
    assert entry["installed_at"].endswith("+00:00")


def test_a_corrupted_transfer_fails_and_the_previous_model_stays(
    first, fake_visiona, deploy, models
):
    manifest_before = models.manifest_path.read_bytes()
    second = fake_visiona.add(Deployment(nef_bytes(SIZE, "v2"), corrupt=True))
    deploy(second)
    assert second.state == "failed"
    assert second.events[-1]["error_code"] == "checksum_mismatch"
    assert second.states()[-2:] == ["verifying", "failed"]
    assert model_file(models).read_bytes() == first.data
    assert models.manifest_path.read_bytes() == manifest_before
    assert not (models.previous_dir / "person-detector-7.nef").exists()
    assert not models.part_path(second.id).exists()


def test_a_bad_nef_crc_fails_with_crc_mismatch(first, fake_visiona, deploy, models):
    data = bytearray(nef_bytes(SIZE, "v2"))
    data[-1] ^= 0x01  # the sha256 is of these bytes: only the NEF's own CRC can tell
    second = fake_visiona.add(Deployment(bytes(data)))
    deploy(second)
    assert second.state == "failed"
    assert second.events[-1]["error_code"] == "crc_mismatch"
    assert model_file(models).read_bytes() == first.data


def test_a_model_for_another_chip_is_not_downloaded(fake_visiona, deploy, models):
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE), chips=("KL630",)))
    deploy(deployment)
    assert deployment.states() == ["failed"]
    assert deployment.events[0]["error_code"] == "chip_mismatch"
    assert deployment.requests == []


def test_a_model_that_does_not_fit_is_too_large(fake_visiona, deploy, models, monkeypatch):
    monkeypatch.setattr(type(models), "free_bytes", lambda self: SIZE - 1)
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    deploy(deployment)
    assert deployment.states() == ["failed"]
    assert deployment.events[0]["error_code"] == "too_large"


def test_reports_are_retried_while_visiona_is_unreachable(fake_visiona, deploy, models):
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    deployment.fail_reports = {"verifying": [503, 502], "installed": [503, 500, 503]}
    deploy(deployment)
    assert deployment.state == "installed"
    assert deployment.states()[-2:] == ["verifying", "installed"]


def test_an_install_visiona_never_heard_of_is_reported_without_downloading_again(
    fake_visiona, deploy, make_runner, models
):
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    deployment.fail_reports = {"installed": [503] * 1000}
    # The agent installs, cannot report it (visionA down), and is stopped.
    job = Job(WorkItem.parse(deployment.work_item()))

    class StoppedWhenItWaits(Backoff):
        """Stopped the moment it would wait to report again (not after a fixed time,
        which a loaded machine may reach before the install)."""

        def next_delay(self) -> float:
            job.interrupt.set()
            return super().next_delay()

    with pytest.raises(Stopped):
        make_runner(backoff=lambda: StoppedWhenItWaits(base=0.05, cap=0.05)).run(job)
    assert models.entries()[0]["deployment_id"] == deployment.id
    assert deployment.state == "verifying"
    # Restarted, visionA back: it says installed, without one more byte.
    deployment.fail_reports = {}
    served = deployment.served
    deploy(deployment)
    assert deployment.state == "installed"
    assert deployment.served == served


def test_verify_checks_size_sha256_and_crc(tmp_path):
    data = nef_bytes(5000)
    path = tmp_path / "m.nef"
    path.write_bytes(data)
    verify(path, sha256=hashlib.sha256(data).hexdigest(), size=5000)
    with pytest.raises(VerifyError) as size:
        verify(path, sha256=hashlib.sha256(data).hexdigest(), size=5001)
    assert size.value.code == "checksum_mismatch"
    with pytest.raises(VerifyError) as digest:
        verify(path, sha256="0" * 64, size=5000)
    assert digest.value.code == "checksum_mismatch"
    body = data[:-4] + b"x"
    bad = body + zlib.crc32(b"other").to_bytes(4, "big")
    path.write_bytes(bad)
    with pytest.raises(VerifyError) as crc:
        verify(path, sha256=hashlib.sha256(bad).hexdigest(), size=len(bad))
    assert crc.value.code == "crc_mismatch"
    path.write_bytes(b"ab")
    with pytest.raises(VerifyError) as tiny:
        verify(path, sha256=hashlib.sha256(b"ab").hexdigest(), size=2)
    assert tiny.value.code == "crc_mismatch"


def test_a_manifest_that_cannot_be_written_puts_the_old_model_back(first, models, tmp_path):
    before = model_file(models).read_bytes()
    manifest = models.manifest_path
    manifest.unlink()
    manifest.mkdir()  # os.replace onto a folder fails
    source = tmp_path / "new.nef"
    source.write_bytes(nef_bytes(SIZE, "v3"))
    with pytest.raises(InstallError):
        models.install(
            source, name="Person detector", model_id=7, sha256="a" * 64, deployment_id=first.id
        )
    assert model_file(models).read_bytes() == before


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Person detector", "person-detector-7"),
        ("../../etc/passwd", "etc-passwd-7"),
        ("Détecteur  v2.1", "detecteur-v2-1-7"),
        ("行人偵測", "model-7"),
        ("", "model-7"),
    ],
)
def test_model_file_names_are_safe(name, slug):
    assert model_slug(name, 7) == slug


@pytest.mark.parametrize(
    ("first_name", "second_name"),
    [
        ("Detector", "detector"),
        ("person detector", "Person-Detector!"),
        ("yolo_v5", "yolo v5"),
        ("行人偵測", "車輛偵測"),  # nothing ascii left in either
        ("Détecteur", "detecteur"),
    ],
)
def test_two_models_whose_names_differ_by_case_or_punctuation_get_two_files(
    models, tmp_path, first_name, second_name
):
    assert model_slug(first_name, 1) != model_slug(second_name, 2)
    models.ensure()
    installed = []
    for model_id, name in ((1, first_name), (2, second_name)):
        source = tmp_path / f"{model_id}.part"
        source.write_bytes(nef_bytes(SIZE, name))
        entry = models.install(
            source, name=name, model_id=model_id, sha256="a" * 64, deployment_id=f"d{model_id}"
        )
        installed.append((entry["file"], nef_bytes(SIZE, name)))
    assert len({file for file, _data in installed}) == 2
    for file, data in installed:
        assert (models.root / file).read_bytes() == data
    assert sorted(e["model_id"] for e in models.entries()) == [1, 2]


def test_a_renamed_model_replaces_its_own_file(models, tmp_path):
    models.ensure()
    for name, version in (("Old name", "v1"), ("New name", "v2")):
        source = tmp_path / f"{version}.part"
        source.write_bytes(nef_bytes(SIZE, version))
        models.install(source, name=name, model_id=7, sha256="a" * 64, deployment_id=version)
    [entry] = models.entries()
    assert entry["file"] == "new-name-7.nef"
    assert not (models.root / "old-name-7.nef").exists()
    assert (models.previous_dir / "new-name-7.nef").read_bytes() == nef_bytes(SIZE, "v1")


def test_a_file_named_by_an_older_agent_is_replaced_by_the_same_models_next_install(
    models, tmp_path
):
    # Agents before the id in the name wrote <slug>.nef; another model's file stays.
    models.ensure()
    (models.root / "detector.nef").write_bytes(b"old")
    (models.root / "other.nef").write_bytes(b"other")
    models.manifest_path.write_text(
        json.dumps(
            [
                {"name": "Detector", "file": "detector.nef", "model_id": 7},
                {"name": "Other", "file": "other.nef", "model_id": 8},
            ]
        )
    )
    source = tmp_path / "new.part"
    source.write_bytes(nef_bytes(SIZE, "v2"))
    models.install(source, name="Detector", model_id=7, sha256="a" * 64, deployment_id="d")
    assert sorted(e["file"] for e in models.entries()) == ["detector-7.nef", "other.nef"]
    assert not (models.root / "detector.nef").exists()
    assert (models.root / "other.nef").read_bytes() == b"other"
    assert (models.previous_dir / "detector-7.nef").read_bytes() == b"old"


def test_a_manifest_cannot_make_the_install_delete_outside_the_folder(models, tmp_path):
    outside = tmp_path / "keep.nef"
    outside.write_bytes(b"keep")
    models.ensure()
    models.manifest_path.write_text(
        json.dumps([{"name": "x", "file": "../keep.nef", "model_id": 7}])
    )
    source = tmp_path / "new.part"
    source.write_bytes(nef_bytes(SIZE, "v2"))
    models.install(source, name="x", model_id=7, sha256="a" * 64, deployment_id="d")
    assert outside.read_bytes() == b"keep"
