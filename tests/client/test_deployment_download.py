"""A deployment's download over real sockets: resume after a cut, restarts, refusals.

The fake visionA (tests/client/fake_visiona.py) answers Range and If-Range as the
contract says and counts the file bytes it sends.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from visiona_client.backoff import Backoff
from visiona_client.deployment_job import Job, Stopped, WorkItem

from tests.client.fake_visiona import OTHER_TOKEN, Deployment, nef_bytes
from tests.waiting import wait_for

SIZE = 3 * 1024 * 1024 + 123


@pytest.fixture
def deployment(fake_visiona):
    return fake_visiona.add(Deployment(nef_bytes(SIZE)))


def installed_bytes(models, deployment) -> bytes:
    [entry] = models.entries()
    return (models.root / entry["file"]).read_bytes()


def test_a_download_installs_the_exact_bytes_and_reports_each_state(deploy, deployment, models):
    deploy(deployment)
    assert installed_bytes(models, deployment) == deployment.data
    states = deployment.states()
    assert states[0] == "downloading" and states[-2:] == ["verifying", "installed"]
    assert set(states[:-2]) == {"downloading"}
    assert deployment.events[0]["bytes_done"] == 0
    assert deployment.events[0]["bytes_total"] == SIZE
    assert deployment.served == SIZE
    [request] = deployment.requests
    assert "Range" not in request
    assert request["Authorization"] == "Bearer vad_test-device-token"
    assert request["Accept-Encoding"] == "identity"
    assert not list(models.partial_dir.iterdir())


def test_a_cut_at_half_resumes_and_transfers_only_the_rest(deploy, deployment, models):
    half = SIZE // 2
    deployment.cut_at = half
    deploy(deployment)
    assert installed_bytes(models, deployment) == deployment.data
    first, second = deployment.requests
    assert "Range" not in first
    assert second["Range"] == f"bytes={half}-"
    assert second["If-Range"] == f'"{deployment.sha256}"'
    assert deployment.served == SIZE  # half, then the other half: nothing twice
    assert deployment.state == "installed"


def test_a_200_instead_of_206_restarts_from_zero(deploy, deployment, models):
    deployment.cut_at = SIZE // 2
    deployment.ignore_range = True
    deploy(deployment)
    assert installed_bytes(models, deployment) == deployment.data
    assert deployment.requests[1]["Range"] == f"bytes={SIZE // 2}-"
    assert deployment.served == SIZE // 2 + SIZE


@pytest.mark.parametrize("shift", [1, 4096])
def test_a_206_from_another_offset_is_never_appended(deploy, deployment, models, shift):
    deployment.cut_at = SIZE // 2
    deployment.range_shift = shift  # the resume's 206 says it starts earlier than asked
    deploy(deployment)
    assert installed_bytes(models, deployment) == deployment.data
    assert deployment.state == "installed"
    ranges = [request.get("Range") for request in deployment.requests]
    # The shifted answer is dropped with the partial, and the file is fetched whole.
    assert ranges == [None, f"bytes={SIZE // 2}-", None]


def test_a_416_discards_the_partial_and_starts_again(deploy, deployment, models):
    deployment.cut_at = SIZE // 2
    deployment.force_416 = 1
    deploy(deployment)
    assert installed_bytes(models, deployment) == deployment.data
    ranges = [request.get("Range") for request in deployment.requests]
    assert ranges == [None, f"bytes={SIZE // 2}-", None]


def test_busy_answers_are_retried_with_backoff(deploy, deployment, models):
    deployment.fail_file = [503, 502, 429]
    deploy(deployment)
    assert deployment.state == "installed"
    assert len(deployment.requests) == 4


def test_it_gives_up_with_download_failed_after_a_bounded_time(
    deploy, make_runner, deployment, models
):
    deployment.fail_file = [503] * 1000
    deploy(deployment, make_runner(give_up_after=0.3))
    assert deployment.state == "failed"
    assert deployment.events[-1]["error_code"] == "download_failed"
    assert 2 < len(deployment.requests) < 1000
    assert models.entries() == []
    assert not list(models.partial_dir.iterdir())


def test_a_finished_deployment_stops_the_download_and_deletes_the_partial(
    deploy, deployment, models, fake_visiona
):
    # Cut at half, then cancelled before the retry: the file endpoint answers 409.
    deployment.cut_at = SIZE // 2
    calls = []

    def cancel_on_the_second_request(d):
        calls.append(1)
        if len(calls) == 2:
            fake_visiona.cancel(d)

    deployment.before_file = cancel_on_the_second_request
    deploy(deployment)
    assert len(calls) == 2
    assert deployment.state == "cancelled"
    assert deployment.states()[-1] == "cancelled"  # nothing reported after it
    assert models.entries() == []
    assert not models.part_path(deployment.id).exists()
    assert not models.part_meta_path(deployment.id).exists()


def test_another_devices_token_gets_a_404_and_nothing_is_installed(
    deploy, make_runner, deployment, models
):
    deployment.token = OTHER_TOKEN  # the deployment is another device's
    item = WorkItem.parse(deployment.work_item())
    make_runner().run(Job(item))
    assert deployment.requests == []  # its state report was refused (404) first
    assert models.entries() == []


def test_a_missing_file_is_reported_failed(deploy, deployment, models):
    deployment.fail_file = [404]
    deploy(deployment)
    assert deployment.state == "failed"
    assert deployment.events[-1]["error_code"] == "download_failed"


def test_a_restart_resumes_from_the_partial_file(deploy, make_runner, deployment, models):
    half = SIZE // 2
    deployment.cut_at = half
    deployment.fail_file = []
    item = WorkItem.parse(deployment.work_item())
    job = Job(item)

    class StoppedWhenItWaits(Backoff):
        """The first agent is stopped the moment it would wait to retry after the cut
        (a timer here raced the download on a loaded machine)."""

        def next_delay(self) -> float:
            job.interrupt.set()
            return super().next_delay()

    runner = make_runner(backoff=lambda: StoppedWhenItWaits(base=5, cap=5, random=lambda: 1.0))
    with pytest.raises(Stopped):
        runner.run(job)
    part = models.part_path(deployment.id)
    assert part.stat().st_size == half
    assert json.loads(models.part_meta_path(deployment.id).read_text())["bytes_on_disk"] == half
    # A new agent process: a new runner, the work item as visionA lists it now.
    assert deployment.state == "downloading"
    deploy(deployment)
    assert installed_bytes(models, deployment) == deployment.data
    assert deployment.requests[-1]["Range"] == f"bytes={half}-"
    assert deployment.served == SIZE
    resumed = [e for e in deployment.events if e["state"] == "downloading"]
    assert any(e["bytes_done"] == half for e in resumed)


def test_a_partial_of_another_file_is_not_resumed(deploy, deployment, models):
    models.ensure()
    models.part_path(deployment.id).write_bytes(b"x" * 1000)
    models.part_meta_path(deployment.id).write_text(
        json.dumps({"sha256": "0" * 64, "size_bytes": SIZE, "bytes_on_disk": 1000})
    )
    deploy(deployment)
    assert installed_bytes(models, deployment) == deployment.data
    assert "Range" not in deployment.requests[0]


def test_a_stop_during_a_stalled_read_records_the_bytes_at_once(make_runner, deployment, models):
    half = SIZE // 2
    deployment.pause_at = half  # the server stalls there: the agent's read blocks
    job = Job(WorkItem.parse(deployment.work_item()))
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_run(make_runner(), job)))
    thread.start()
    wait_for(lambda: deployment.served >= half)
    # What it got is on disk: the agent is back in its (stalled) read.
    part = models.part_path(deployment.id)
    wait_for(lambda: part.exists() and part.stat().st_size >= half)
    job.interrupt.set()
    # Well under the 30 s read timeout: only the stop can have ended the read by then.
    thread.join(20)
    assert outcome == ["stopped"]
    meta = json.loads(models.part_meta_path(deployment.id).read_text())
    assert meta["bytes_on_disk"] == half == models.part_path(deployment.id).stat().st_size


def _run(runner, job):
    try:
        runner.run(job)
    except Stopped:
        return "stopped"
    return "ended"


@pytest.mark.parametrize(
    ("given", "fetched"),
    [
        ("/api/agent/deployments/x/file", "https://visiona.example/api/agent/deployments/x/file"),
        ("https://visiona.example/p/file?a=1", "https://visiona.example/p/file?a=1"),
        ("http://web:8000/api/agent/d/file", "https://visiona.example/api/agent/d/file"),
        ("https://evil.example/steal", "https://visiona.example/steal"),
    ],
)
def test_the_token_only_goes_to_visiona(given, fetched):
    from visiona_client.server_api import ServerApi

    assert ServerApi("https://visiona.example").download_url(given) == fetched


def test_progress_reports_come_once_a_second_or_every_5_percent():
    from visiona_client.deployment_job import _Throttle

    now = [0.0]
    throttle = _Throttle(1000, lambda: now[0])
    assert not throttle.due(10)  # 1 % after 0 s
    assert throttle.due(50)  # 5 %
    assert not throttle.due(60)
    now[0] = 1.0
    assert throttle.due(61)  # a second
    assert not throttle.due(62)
    assert not throttle.due(1000)  # the end: ``verifying`` says it


def test_a_download_sends_at_most_one_report_per_5_percent_or_second(deploy, deployment):
    started = time.monotonic()
    deploy(deployment)
    seconds = time.monotonic() - started
    downloading = [e for e in deployment.events if e["state"] == "downloading"]
    # The first, then at most 20 steps of 5 %, plus one a second on a slow machine.
    assert 1 <= len(downloading) <= 21 + int(seconds)
    done = [e["bytes_done"] for e in downloading]
    assert done == sorted(done)
