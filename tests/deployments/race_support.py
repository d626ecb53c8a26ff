"""Two writers at once, in threads, and a point where one waits for the other (real
PostgreSQL): the race is set up by conditions, never by sleeping and hoping."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection, connections

from tests.waiting import wait_for
from visiona.errors import AppError

# Only a backstop: each wait ends as soon as the other writer is where it should be.
WAIT_SECONDS = 30


def run_at_once(*calls):
    """Run the calls in threads started together; each one's result or AppError."""
    results: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except AppError as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS * 2)
    return results


def another_waits_for_my_locks() -> bool:
    """Whether another session waits for a lock this thread's transaction holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks"
            " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid)))"
        )
        return cursor.fetchone()[0]


def hold_until_blocked(*, or_when: Callable[[], bool]) -> None:
    """In a writer between its decision and its write: wait until the other writer waits
    for this one's row locks, or until ``or_when()`` says it went on without waiting (the
    locks were taken away: the test then sees both act on the same state)."""
    wait_for(lambda: or_when() or another_waits_for_my_locks(), timeout=WAIT_SECONDS)


class Meeting:
    """A point the writers pass one at a time if the locks work: each one arriving waits
    until every writer has arrived (no lock held them apart) or until another waits for
    its locks (the lock works: it goes on, and the other decides after it)."""

    def __init__(self, writers: int = 2) -> None:
        self.writers = writers
        self.arrived = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.arrived += 1
        hold_until_blocked(or_when=lambda: self.arrived >= self.writers)
