"""What the scale benchmark reads of the machine: processes, Redis, PostgreSQL.

- Processes: CPU seconds (user + system) and RSS from /proc.
- Redis: ``INFO commandstats`` (calls per command); a private server
  (``PrivateRedis``) so that nobody else's commands count.
- PostgreSQL: ``pg_stat_database`` (transactions, rows written) of the benchmark's
  database and ``pg_stat_user_tables`` (rows written per table). The server
  flushes backends' counters within about a second of a transaction (idle ones
  within 10 s): windows of a minute or more read them well.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from stack import free_port


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    with contextlib.suppress(FileNotFoundError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_files(pid: int) -> int:
    with contextlib.suppress(FileNotFoundError, PermissionError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return 0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class PrivateRedis:
    """A redis-server of the benchmark's own (no persistence), for clean commandstats."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = Path(tempfile.mkdtemp(prefix="scale-redis-"))
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
                *("--maxclients", "10000"),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def redis_calls(url: str) -> dict[str, int]:
    """Calls per command so far (``INFO commandstats``)."""
    stats = redis.Redis.from_url(url).info("commandstats")
    return {name.removeprefix("cmdstat_"): values["calls"] for name, values in stats.items()}


def redis_memory(url: str) -> int:
    """Bytes the server holds for data (``used_memory``)."""
    return int(redis.Redis.from_url(url).info("memory")["used_memory"])


_DATABASE_SQL = (
    "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, tup_returned, tup_fetched"
    " FROM pg_stat_database WHERE datname = current_database()"
)
_TABLES_SQL = (
    "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd FROM pg_stat_user_tables"
)


@dataclass
class DatabaseStats:
    commits: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    returned: int = 0
    fetched: int = 0
    tables: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted

    def minus(self, earlier: DatabaseStats) -> DatabaseStats:
        tables = {}
        for name, values in self.tables.items():
            before = earlier.tables.get(name, (0, 0, 0, 0))
            delta = tuple(a - b for a, b in zip(values, before, strict=True))
            if any(delta):
                tables[name] = delta
        return DatabaseStats(
            commits=self.commits - earlier.commits,
            inserted=self.inserted - earlier.inserted,
            updated=self.updated - earlier.updated,
            deleted=self.deleted - earlier.deleted,
            returned=self.returned - earlier.returned,
            fetched=self.fetched - earlier.fetched,
            tables=tables,
        )


def database_stats(url: str) -> DatabaseStats:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        # A fresh snapshot of the counters, not the one this session cached.
        connection.execute("SELECT pg_stat_clear_snapshot()")
        row = connection.execute(_DATABASE_SQL).fetchone()
        tables = {name: tuple(values) for name, *values in connection.execute(_TABLES_SQL)}
    return DatabaseStats(*row, tables=tables)


def vacuum_devices(url: str) -> None:
    """Clear the dead rows earlier runs left (each makes and deletes its devices) and
    refresh the planner's statistics: else index scans over them grow the rows read
    from one run to the next (seen: 10,200 to 28,900 a second over six runs)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE devices_device, devices_devicetoken")
