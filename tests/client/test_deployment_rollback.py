"""A rollback on the device: the model comes back from where it is, its kept copy when
that copy's digest is right, or a download; the undone model is taken off."""

from __future__ import annotations

import hashlib

import pytest

from tests.client.fake_visiona import Deployment, nef_bytes

SIZE = 120_000


def rollback_of(model: Deployment, *, remove: Deployment | None = None) -> Deployment:
    """A rollback deployment bringing back ``model``'s file (and taking off ``remove``)."""
    return Deployment(
        model.data,
        name=model.name,
        model_id=model.model_id,
        kind="rollback",
        remove={"model_id": remove.model_id, "sha256": remove.sha256} if remove else None,
    )


def file_of(models, deployment: Deployment) -> bytes | None:
    for entry in models.entries():
        if entry["model_id"] == deployment.model_id:
            return (models.root / entry["file"]).read_bytes()
    return None


@pytest.fixture
def installed(fake_visiona, deploy):
    def install(data: bytes, **fields) -> Deployment:
        deployment = fake_visiona.add(Deployment(data, **fields))
        deploy(deployment)
        assert deployment.state == "installed"
        return deployment

    return install


def test_a_model_still_in_place_is_kept_and_the_other_taken_off(
    installed, fake_visiona, deploy, models
):
    detector = installed(nef_bytes(SIZE, "detector"))
    finder = installed(nef_bytes(SIZE, "finder"), name="Face finder", model_id=8)
    rollback = fake_visiona.add(rollback_of(detector, remove=finder))

    deploy(rollback)

    assert rollback.state == "installed"
    assert rollback.events[-1]["restored_from"] == "in_place"
    assert rollback.served == 0  # nothing downloaded
    [entry] = models.entries()
    assert (entry["model_id"], entry["deployment_id"]) == (detector.model_id, rollback.id)
    assert file_of(models, detector) == detector.data
    kept = [p.name for p in models.previous_dir.glob("*.nef")]
    assert len(kept) == 1 and (models.previous_dir / kept[0]).read_bytes() == finder.data


def test_a_replaced_version_comes_back_from_the_kept_copy(installed, fake_visiona, deploy, models):
    first = installed(nef_bytes(SIZE, "v1"))
    installed(nef_bytes(SIZE + 8, "v2"))  # the same model, replaced in its file
    rollback = fake_visiona.add(rollback_of(first))

    deploy(rollback)

    assert rollback.state == "installed"
    assert rollback.events[-1]["restored_from"] == "kept_copy"
    assert rollback.served == 0
    assert file_of(models, first) == first.data
    [entry] = models.entries()
    assert (entry["sha256"], entry["deployment_id"]) == (first.sha256, rollback.id)


def test_a_kept_copy_that_differs_is_not_trusted_the_model_is_downloaded(
    installed, fake_visiona, deploy, models
):
    first = installed(nef_bytes(SIZE, "v1"))
    installed(nef_bytes(SIZE + 8, "v2"))
    (kept,) = models.previous_dir.glob("*.nef")
    damaged = bytearray(kept.read_bytes())
    damaged[100] ^= 0xFF
    kept.write_bytes(bytes(damaged))
    rollback = fake_visiona.add(rollback_of(first))

    deploy(rollback)

    assert rollback.state == "installed"
    assert rollback.events[-1]["restored_from"] == "download"
    assert rollback.served == SIZE
    assert hashlib.sha256(file_of(models, first)).hexdigest() == first.sha256


def test_no_kept_copy_means_a_download(installed, fake_visiona, deploy, models):
    first = installed(nef_bytes(SIZE, "v1"))
    installed(nef_bytes(SIZE + 8, "v2"))
    for path in models.previous_dir.iterdir():
        path.unlink()
    rollback = fake_visiona.add(rollback_of(first))

    deploy(rollback)

    assert rollback.events[-1]["restored_from"] == "download"
    assert file_of(models, first) == first.data


def test_a_rollback_installed_before_a_restart_is_only_reported(
    installed, fake_visiona, deploy, models
):
    detector = installed(nef_bytes(SIZE, "detector"))
    finder = installed(nef_bytes(SIZE, "finder"), name="Face finder", model_id=8)
    rollback = fake_visiona.add(rollback_of(detector, remove=finder))
    models.relabel(models.entries()[0]["file"], deployment_id=rollback.id)  # done, unreported

    deploy(rollback)

    assert rollback.state == "installed"
    assert [e["model_id"] for e in models.entries()] == [detector.model_id]  # finder taken off


def test_the_demo_can_refuse_installs(fake_visiona, deploy, make_runner, models):
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE, "v1")))

    deploy(deployment, make_runner(refuse_installs="the demo device refuses installs"))

    assert deployment.state == "failed"
    assert deployment.events[-1]["error_code"] == "install_failed"
    assert deployment.served == 0
    assert models.entries() == []


def test_a_work_item_of_an_unknown_kind_is_ignored():
    from visiona_client.deployment_job import WorkItem

    raw = Deployment(nef_bytes(SIZE)).work_item()
    assert WorkItem.parse({**raw, "kind": "uninstall"}) is None
    assert WorkItem.parse({**raw, "kind": "rollback", "rollback": {"remove": None}}).kind == (
        "rollback"
    )
