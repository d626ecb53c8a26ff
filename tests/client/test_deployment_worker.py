"""The worker in its threads: work from heartbeats and from the nudge, cancel, order."""

from __future__ import annotations

import threading

import pytest
from visiona_client.agent import Agent
from visiona_client.deployments import DeploymentWorker

from tests.client.fake_visiona import Deployment, nef_bytes
from tests.waiting import wait_for

SIZE = 2 * 1024 * 1024


@pytest.fixture
def worker(make_runner, fake_visiona):
    runner = make_runner()
    started = DeploymentWorker(api=runner.api, runner=runner).start()
    yield started
    started.stop()


def test_a_heartbeat_answer_hands_the_worker_its_work(fake_visiona, make_runner, models):
    runner = make_runner()
    agent = Agent(
        api=runner.api,
        local_url="http://127.0.0.1:9",
        tunnel=False,
        local_check=lambda url: True,
        deployments=DeploymentWorker(api=runner.api, runner=runner),
    )
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: agent.deployments.fetches == 1)  # at start: nothing yet
        deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
        wait_for(lambda: deployment.state == "installed")  # within a heartbeat (1 s)
    finally:
        agent.stop()
        thread.join(5)
    assert not thread.is_alive()
    assert fake_visiona.list_calls == 1  # no list asked for since: the heartbeat carried it
    assert models.entries()[0]["sha256"] == deployment.sha256


def test_the_nudge_fetches_the_list_at_once(worker, fake_visiona, models):
    wait_for(lambda: worker.fetches == 1)  # the list asked for at start: empty
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    worker.sync()
    wait_for(lambda: deployment.state == "installed")
    assert worker.fetches == 2


def test_deployments_run_one_at_a_time_oldest_first(worker, fake_visiona, models):
    first = fake_visiona.add(Deployment(nef_bytes(SIZE, "a"), name="A", model_id=1))
    second = fake_visiona.add(Deployment(nef_bytes(SIZE, "b"), name="B", model_id=2))
    first.pause_at = SIZE // 2
    worker.sync()
    wait_for(lambda: first.served >= SIZE // 2)
    assert second.requests == []  # waits for the first
    first.resume.set()
    wait_for(lambda: second.state == "installed")
    assert first.state == "installed"
    assert [e["name"] for e in models.entries()] == ["A", "B"]


def test_a_cancel_pushed_through_the_tunnel_stops_the_download(worker, fake_visiona, models):
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    after = fake_visiona.add(Deployment(nef_bytes(SIZE, "next"), name="Next", model_id=2))
    deployment.pause_at = SIZE // 2
    worker.sync()
    wait_for(lambda: deployment.served >= SIZE // 2)
    assert models.part_path(deployment.id).exists()
    fake_visiona.cancel(deployment)
    worker.sync()  # visionA's nudge on cancel: the list no longer has it
    wait_for(lambda: worker._current is None or worker._current.cancelled)
    deployment.resume.set()
    wait_for(lambda: after.state == "installed")
    assert deployment.states()[-1] == "cancelled"  # nothing reported after it
    assert not models.part_path(deployment.id).exists()
    assert [e["name"] for e in models.entries()] == ["Next"]


def test_a_cancel_answered_to_a_progress_report_stops_the_download(worker, fake_visiona, models):
    deployment = fake_visiona.add(Deployment(nef_bytes(SIZE)))
    deployment.pause_at = SIZE // 2
    worker.sync()
    wait_for(lambda: deployment.served >= SIZE // 2)
    fake_visiona.cancel(deployment)  # no nudge: the next report hears it
    deployment.resume.set()
    wait_for(lambda: not models.part_path(deployment.id).exists(), timeout=10)
    assert deployment.state == "cancelled"
    assert models.entries() == []


def test_partials_of_deployments_no_longer_listed_are_deleted(worker, fake_visiona, models):
    wait_for(lambda: worker.fetches == 1)
    stale = "0b6f7a39-8a3c-4c57-a3a9-4d2f6c1e0d11"
    models.ensure()
    models.part_path(stale).write_bytes(b"old")
    models.part_meta_path(stale).write_text("{}")
    worker.sync()
    wait_for(lambda: worker.fetches == 2)
    assert models.partial_ids() == set()


def test_malformed_work_items_are_ignored(worker, fake_visiona):
    worker.offer([{"id": "../../x"}, {"id": "not-a-uuid", "model": {}}, "nope"])
    assert worker._next() is None
