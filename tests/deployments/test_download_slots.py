"""The per-device download leases: short-lived and renewed while held, so a web process
killed mid-download frees its place within seconds; and a release that never raises."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache

from deployments import download_slots
from deployments.errors import TooManyDownloads
from tests.test_cache_outage import take_the_cache_down
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def device_id() -> str:
    return f"slots-{uuid.uuid4().hex}"


def test_a_held_slot_outlives_its_own_lifetime(settings, monkeypatch, device_id):
    # Renewed by its thread, not by bytes flowing: a download whose agent reads slowly
    # keeps its place. 1 s lifetime; held until 30 renewals (1.5 s at least) passed.
    settings.DEPLOYMENT_DOWNLOADS_PER_DEVICE = 1
    monkeypatch.setattr(download_slots, "LEASE_SECONDS", 1)
    monkeypatch.setattr(download_slots, "RENEW_EVERY_SECONDS", 0.05)
    renewals = []
    renew = download_slots.DownloadSlot.renew
    monkeypatch.setattr(
        download_slots.DownloadSlot, "renew", lambda self: (renewals.append(1), renew(self))
    )
    slot = download_slots.take(device_id=device_id)
    try:
        wait_for(lambda: len(renewals) >= 30, timeout=60, interval=0.02)
        with pytest.raises(TooManyDownloads):
            download_slots.take(device_id=device_id)
    finally:
        slot.release()
    assert not slot._renewer.is_alive()
    assert cache.get(slot.key) is None
    download_slots.take(device_id=device_id).release()  # free again


def test_a_slot_that_lapsed_to_another_download_is_not_released_by_the_first(device_id):
    slot = download_slots.take(device_id=device_id)
    cache.set(slot.key, "another-download", 60)  # ours expired; theirs now
    slot.release()
    assert cache.get(slot.key) == "another-download"
    cache.delete(slot.key)


def test_releasing_while_the_cache_is_down_logs_and_does_not_raise(
    settings, monkeypatch, caplog, device_id
):
    monkeypatch.setattr(download_slots, "RENEW_EVERY_SECONDS", 600)  # no renewal meanwhile
    slot = download_slots.take(device_id=device_id)
    saved = settings.CACHES
    take_the_cache_down(settings)
    with caplog.at_level(logging.WARNING, logger="deployments.download_slots"):
        slot.release()  # the answer is being closed: nothing to raise to
    assert "download slot not released" in caplog.text
    settings.CACHES = saved
    cache.delete(slot.key)


_HOLDER = """
import sys, time
import django
django.setup()
from deployments import download_slots
download_slots.take(device_id=sys.argv[1])
print("held", flush=True)
time.sleep(600)
"""


@pytest.mark.redis
def test_a_slot_whose_web_process_was_killed_is_free_within_its_lifetime(settings, device_id):
    settings.DEPLOYMENT_DOWNLOADS_PER_DEVICE = 1
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "VISIONA_TEST_CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "DEPLOYMENT_DOWNLOADS_PER_DEVICE": "1",
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, device_id],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    key = download_slots.slot_key(device_id, 0)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(TooManyDownloads):
            download_slots.take(device_id=device_id)
        holder.send_signal(signal.SIGKILL)  # mid-download: no close, no release
        holder.wait(timeout=30)
        # What frees it is the lease's own short lifetime in Redis, not a long one:
        assert 0 < cache.ttl(key) <= download_slots.LEASE_SECONDS
        wait_for(
            lambda: cache.get(key) is None,
            timeout=download_slots.LEASE_SECONDS * 6,
            interval=0.1,
        )
        download_slots.take(device_id=device_id).release()
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()
        cache.delete(key)
