"""One upload in flight per user: the lease, and the upload API that holds it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import responses
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client

from conversion import errors, upload_lease
from tests.conversion.upstreams import (
    BOUNDARY,
    CONVERTER,
    job_json,
    multipart_body,
    parse_upstream_form,
    standard_parts,
)
from tests.waiting import wait_for

CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
ROOT = Path(__file__).resolve().parents[2]
ALICE, BOB = SimpleNamespace(pk=1), SimpleNamespace(pk=2)


def post_upload(client):
    body = multipart_body(standard_parts())
    return client.generic("POST", "/api/conversion/init", body, content_type=CONTENT_TYPE)


# --- The lease ------------------------------------------------------------------


def test_a_user_holds_one_lease_at_a_time_and_others_are_not_affected():
    with upload_lease.upload_lease(user=ALICE):
        with pytest.raises(errors.UploadInProgress), upload_lease.upload_lease(user=ALICE):
            pass
        with upload_lease.upload_lease(user=BOB):
            pass
    with upload_lease.upload_lease(user=ALICE):  # released at the end
        pass


def test_the_lease_is_released_when_the_upload_fails():
    with pytest.raises(RuntimeError), upload_lease.upload_lease(user=ALICE):
        raise RuntimeError("converter said no")
    assert cache.get(upload_lease._key(ALICE)) is None


def test_a_lease_that_lapsed_to_another_upload_is_not_released_by_the_first():
    with upload_lease.upload_lease(user=ALICE):
        cache.set(upload_lease._key(ALICE), "another-upload", 60)  # ours expired; theirs now
    assert cache.get(upload_lease._key(ALICE)) == "another-upload"


def test_a_held_lease_outlives_its_own_lifetime(monkeypatch):
    # Renewed by its thread, not by bytes flowing: a holder waiting on the converter's
    # answer keeps it too. 1 s lifetime; held until 30 renewals (1.5 s at least) passed.
    monkeypatch.setattr(upload_lease, "LEASE_SECONDS", 1)
    monkeypatch.setattr(upload_lease, "RENEW_EVERY_SECONDS", 0.05)
    renewals = []
    renew = upload_lease.UploadLease.renew
    monkeypatch.setattr(
        upload_lease.UploadLease, "renew", lambda self: (renewals.append(1), renew(self))
    )
    with upload_lease.upload_lease(user=ALICE):
        wait_for(lambda: len(renewals) >= 30, timeout=60, interval=0.02, what="30 renewals")
        with pytest.raises(errors.UploadInProgress), upload_lease.upload_lease(user=ALICE):
            pass
    assert cache.get(upload_lease._key(ALICE)) is None


def test_the_renewer_stops_with_the_lease(monkeypatch):
    monkeypatch.setattr(upload_lease, "RENEW_EVERY_SECONDS", 0.01)
    lease = upload_lease.UploadLease(upload_lease._key(ALICE))
    assert lease.acquire()
    lease.release()
    assert not lease._renewer.is_alive()


_HOLDER = """
import json, os, sys, time
from types import SimpleNamespace
import django
django.setup()
from conversion import upload_lease
with upload_lease.upload_lease(user=SimpleNamespace(pk=int(sys.argv[1]))):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.mark.redis
def test_a_lease_whose_holder_was_killed_is_free_within_its_lifetime(settings):
    user = SimpleNamespace(pk=900_000 + os.getpid() % 1000)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "VISIONA_TEST_CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(user.pk)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(errors.UploadInProgress), upload_lease.upload_lease(user=user):
            pass
        holder.send_signal(signal.SIGKILL)  # no finally, no release: as a dead worker
        holder.wait(timeout=30)
        # What frees it is the lease's own short lifetime in Redis, not a long one:
        assert 0 < cache.ttl(upload_lease._key(user)) <= upload_lease.LEASE_SECONDS
        wait_for(
            lambda: cache.get(upload_lease._key(user)) is None,
            timeout=upload_lease.LEASE_SECONDS * 6,
            interval=0.02,
            what="the dead holder's lease to expire",
        )
        with upload_lease.upload_lease(user=user):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()


@pytest.mark.redis
def test_the_lease_is_shared_across_instances_through_redis(settings):
    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    # Another process's own connection to the same Redis.
    other_instance = caches.create_connection("default")
    with upload_lease.upload_lease(user=ALICE):
        assert other_instance.get(upload_lease._key(ALICE)) is not None
        assert not other_instance.add(upload_lease._key(ALICE), "theirs", 60)
    assert other_instance.get(upload_lease._key(ALICE)) is None


# --- The upload API -------------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_while_another_is_in_flight_is_refused_first(alice_client, alice, upstream):
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    # Another worker or instance is streaming Alice's first upload.
    with upload_lease.upload_lease(user=alice):
        response = post_upload(alice_client)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "upload_in_progress"
    assert not upstream.calls  # refused before asking or sending anything


# Threads need a database that takes concurrent connections.
@pytest.mark.django_db(transaction=True)
def test_one_user_gets_one_upload_in_flight_and_others_still_upload(alice, bob, upstream):
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    streaming, finish = threading.Event(), threading.Event()

    def create(request):
        form = parse_upstream_form(request)
        if form[0][2] == alice.upstream_id.encode() and not streaming.is_set():
            streaming.set()
            assert finish.wait(10)  # Alice's first upload stays open meanwhile
        return 201, {}, json.dumps(job_json(status="created", stage=None))

    upstream.add_callback(responses.POST, f"{CONVERTER}/api/v1/jobs", callback=create)
    alice_client, bob_client = Client(), Client()
    alice_client.force_login(alice)
    bob_client.force_login(bob)
    first = {}

    def slow_upload():
        try:
            first["response"] = post_upload(alice_client)
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=slow_upload)
    thread.start()
    try:
        assert streaming.wait(10)
        second = post_upload(alice_client)
        assert second.status_code == 409
        assert second.json()["error"]["code"] == "upload_in_progress"
        assert post_upload(bob_client).status_code == 201  # Bob is not held up
    finally:
        finish.set()
        thread.join(10)
    assert first["response"].status_code == 201
