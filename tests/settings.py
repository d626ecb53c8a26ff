"""Settings for the test suite: the real settings with test-only defaults.

DATABASE_URL and REDIS_URL still decide the database and cache, so the same
suite runs on SQLite (a laptop) and on PostgreSQL and Redis (CI).
"""

import os
import tempfile
import uuid

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("RELAY_INTERNAL_SECRET", "tests-only-relay-secret-" + "r" * 40)
# Agents under test dial nothing unless a test starts a relay: never a relay someone runs
# on the default port 3800 of this machine (it would refuse their tokens and stop them).
os.environ.setdefault("RELAY_PUBLIC_URL", "ws://127.0.0.1:9/tunnel")
# A data folder of each test process's own, removed at the end of its run
# (tests/conftest.py). Under pytest-xdist the workers inherit the controller's
# environment: each makes its own folder (one finishing must not remove another's),
# while the servers a worker starts inherit the worker's.
if not os.environ.get("VISIONA_DATA_DIR") or (
    "VISIONA_TESTS_DATA_DIR_OF" in os.environ
    and os.environ["VISIONA_TESTS_DATA_DIR_OF"] != os.environ.get("PYTEST_XDIST_WORKER", "")
):
    os.environ["VISIONA_DATA_DIR"] = tempfile.mkdtemp(prefix="visiona-tests-")
    os.environ["VISIONA_TESTS_DATA_DIR_OF"] = os.environ.get("PYTEST_XDIST_WORKER", "")
    # Only the process that made it removes it (tests/conftest.py): a pytest a test runs
    # in a subprocess inherits the worker's folder, and must leave it to the worker.
    os.environ["VISIONA_TESTS_DATA_DIR_MADE_BY"] = str(os.getpid())

from visiona.settings import *  # noqa: F403

# Mount the sandbox upstreams (/sandbox/) for their tests and end-to-end tests.
# Set here, after the import, so none of its defaults for CONVERTER_BASE_URL,
# FAA_BASE_URL or MC_SERVICE_* apply: tests set upstreams themselves.
VISIONA_SANDBOX = True

# The fake converter's rate limit counts the whole run's requests: off, except in its tests.
SANDBOX_RATE_LIMIT = 0

# Tests build the agent's wheel where they choose, never into the checkout.
CLIENT_DOWNLOADS_DIR = DATA_DIR / "downloads"  # noqa: F405

# Tasks run at once in the caller, so a test sees their effect without a worker process;
# tests/test_background_worker.py runs the real database backend and `db_worker` (a worker
# process it starts names its backend in TASKS_BACKEND).
if not os.environ.get("TASKS_BACKEND"):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Hashing passwords at full strength only slows the suite down.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Upstream retries keep their schedule's shape but not its seconds.
UPSTREAM_BACKOFF_SCALE = 0.0

if REDIS_URL:  # noqa: F405
    # The suite writes, and deletes, only keys under a prefix of its own run: it
    # never empties the Redis database it is given (tests/conftest.py).
    # A process the suite starts (the relay in tests/relay) is handed the run's prefix.
    TEST_CACHE_KEY_PREFIX = os.environ.get("VISIONA_TEST_CACHE_KEY_PREFIX") or (
        f"visiona-tests-{uuid.uuid4().hex[:12]}"
    )
    CACHES["default"]["KEY_PREFIX"] = TEST_CACHE_KEY_PREFIX  # noqa: F405
