"""The background worker: tasks stored by the database backend and run by `db_worker`.

The suite runs tasks at once in the caller (tests/settings.py); these tests run the real
backend, in process (any database) and as the worker process production runs (PostgreSQL:
the process must see the test's committed rows).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks.base import TaskResultStatus

from tests.relay.conftest import ROOT, database_url
from tests.waiting import wait_for

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@task()
def add(a: int, b: int) -> int:
    return a + b


@pytest.fixture
def database_backend(settings):
    settings.TASKS = DATABASE_BACKEND
    return settings


@pytest.mark.django_db(transaction=True)  # the worker closes the connection it used
def test_a_task_waits_in_the_database_until_a_worker_takes_it(database_backend):
    result = add.enqueue(2, 3)

    result.refresh()
    assert result.status == TaskResultStatus.READY

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5


@pytest.mark.django_db(transaction=True)  # the worker closes the connection it used
def test_a_failing_task_is_recorded_as_failed_not_lost(database_backend):
    result = add.enqueue(2, "three")

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert "TypeError" in result.errors[0].exception_class_path


@pytest.mark.postgres
@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_worker_process_runs_what_a_request_enqueued(database_backend):
    """`manage.py db_worker`, as `make run` and the worker service start it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    command = [sys.executable, "manage.py", "db_worker", "--interval", "0.1"]
    command += ["--no-startup-delay", "--no-reload"]
    with tempfile.TemporaryFile(mode="w+") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            result = add.enqueue(20, 22)

            def finished() -> bool:
                if worker.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"the worker exited: {log.read()}")
                result.refresh()
                return result.is_finished

            wait_for(finished, timeout=60)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 42
