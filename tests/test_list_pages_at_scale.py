"""The list pages at scale: /models/ and /conversions/ at 1,000 rows, /devices/ at 1,000
devices. Paginated, with a query count that does not grow with the rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from conversion.models import ConversionJob
from devices.models import Device
from models_repo.models import ModelPlatform, NefModel

pytestmark = pytest.mark.django_db


def add_jobs(owner, count: int, start: int = 0) -> None:
    now = timezone.now()
    ConversionJob.objects.bulk_create(
        ConversionJob(
            job_id=str(uuid.uuid4()),
            owner=owner,
            chip="KL720",
            filename=f"m{n}.onnx",
            status="completed" if n % 3 else "failed",
            progress=100,
            created_at=now - timedelta(minutes=n),
            finished_at=now - timedelta(minutes=n) + timedelta(seconds=30),
            expires_at=now + timedelta(days=7),
        )
        for n in range(start, start + count)
    )


def add_models(owner, count: int, start: int = 0) -> None:
    models = NefModel.objects.bulk_create(
        NefModel(
            owner=owner,
            name=f"model {n}",
            source="upload",
            file=f"models/m{n}.nef",
            size_bytes=1000 + n,
            sha256="0" * 64,
        )
        for n in range(start, start + count)
    )
    ModelPlatform.objects.bulk_create(ModelPlatform(model=m, chip="KL720") for m in models)


def add_devices(owner, count: int, start: int = 0) -> None:
    Device.objects.bulk_create(
        Device(owner=owner, serial=f"SN-{n:05}", name=f"device {n}", chip="KL520")
        for n in range(start, start + count)
    )


def queries_for(client, url: str, django_assert_num_queries, expected: int):
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("url", "add", "expected_queries"),
    [
        # The signed-in user is not among them: each process remembers it for a few
        # seconds after its first request (visiona/auth/user_cache.py).
        ("/conversions/", add_jobs, 3),
        ("/models/", add_models, 4),
        # The count, the page, all the devices' last heartbeats (the summary and the
        # registry lookup's ids: devices.presence.user_overview), the active-job banner,
        # and the page's pins (its devices' own and their groups': deployments' marks).
        ("/devices/", add_devices, 6),
    ],
)
def test_the_query_count_does_not_grow_with_the_rows(
    alice_client, alice, url, add, expected_queries, django_assert_num_queries
):
    if settings.SESSION_ENGINE.endswith(".db"):
        expected_queries += 1  # without Redis the session is read from the database
    if url == "/devices/" and not settings.REDIS_URL:
        expected_queries += 1  # without Redis the tunnel registry is a table, read once
    add(alice, 3)
    assert alice_client.get(url).status_code == 200  # the first request reads the user
    queries_for(alice_client, url, django_assert_num_queries, expected_queries)
    add(alice, 997, 3)
    response = queries_for(alice_client, url, django_assert_num_queries, expected_queries)
    assert b'rel="next"' in response.content  # 1,000 rows: paginated
    last = queries_for(
        alice_client, f"{url}?page=9999", django_assert_num_queries, expected_queries
    )
    assert b'rel="prev"' in last.content


# How fast a page of 1,000 rows is served is bench/list_pages_bench.py's figure, not a
# test's: a timed test fails on a loaded machine. The query counts above are what keeps
# a page from growing with its rows.
