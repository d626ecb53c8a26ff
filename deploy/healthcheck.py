"""The image's health check: what "healthy" means follows the role the container runs.

    python deploy/healthcheck.py [web|relay|worker]

Without an argument, the role the entrypoint wrote into $VISIONA_RUN_DIR/visiona-role
(the Dockerfile's HEALTHCHECK); a container that wrote none (migrate, manage) has
nothing to check. Exit 0: healthy; 1: not, with the reason on stderr.

- web: ``GET /healthz`` on $PORT answers 200 (PostgreSQL and Redis answer too).
- relay: ``GET /readyz`` on $RELAY_INTERNAL_PORT answers 200 (registry and database).
- worker: the worker's process still runs and PostgreSQL accepts a connection.

No Django here: a check runs every 30 s, and importing the project costs a second of
CPU each time.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT_SECONDS = 4


def run_dir() -> Path:
    return Path(os.environ.get("VISIONA_RUN_DIR") or "/tmp")


def role_from_file() -> str:
    try:
        return (run_dir() / "visiona-role").read_text().strip()
    except FileNotFoundError:
        return ""


def http_ok(port: str, path: str) -> str:
    """'' when http://127.0.0.1:<port><path> answers 200, else why not."""
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:
            return "" if answer.status == 200 else f"{url} answered {answer.status}"
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}: {error.read(500).decode(errors='replace')}"
    except OSError as error:
        return f"{url}: {error}"


def worker_ok() -> str:
    try:
        pid = int((run_dir() / "visiona-worker.pid").read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError):
        return "the worker wrote no process id"
    except ProcessLookupError:
        return "the worker's process is gone"
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        return ""  # SQLite: a file beside the worker, nothing to reach
    import psycopg

    try:
        psycopg.connect(database_url, connect_timeout=2).close()
    except psycopg.Error as error:
        return f"PostgreSQL: {type(error).__name__}"  # its message may name the password
    return ""


ROLES = ("web", "relay", "worker")


def check(role: str) -> str:
    if role == "web":
        return http_ok(os.environ.get("PORT") or "8000", "/healthz")
    if role == "relay":
        return http_ok(os.environ.get("RELAY_INTERNAL_PORT") or "3801", "/readyz")
    if role == "worker":
        return worker_ok()
    return ""  # a one-off container (migrate, manage): nothing that serves


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else role_from_file()
    if len(argv) > 1 and role not in ROLES:
        print(f"no health check for {role!r}: one of {', '.join(ROLES)}", file=sys.stderr)
        return 2
    problem = check(role)
    if problem:
        print(f"{role or 'container'} unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
