"""A low-overhead HTTP/1.1 load generator (wrk is not installed here).

Raw keep-alive sockets driven by asyncio, in several processes so the client
does not become the bottleneck: each connection sends one pre-built GET, reads
the answer (headers + Content-Length body) and sends the next. It records every
latency and status.

    run(host, port, paths, cookie, connections=16, processes=2, seconds=10)
      -> {"requests", "rps", "p50_ms", "p90_ms", "p99_ms", "statuses", "errors"}
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections import Counter


def _request(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    headers = {"Accept": "application/json", **headers}
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _checked_age(body: bytes) -> float | None:
    """Seconds since the answer's ``checked_at`` (visionA's last converter lookup)."""
    import json
    from datetime import datetime

    try:
        checked = json.loads(body).get("checked_at")
    except ValueError:
        return None
    if not checked:
        return None
    return time.time() - datetime.fromisoformat(checked.replace("Z", "+00:00")).timestamp()


async def _connection(
    host,
    port,
    requests_,
    deadline,
    latencies,
    statuses,
    rate_gap,
    ages=None,
    first_delay=0.0,
    reconnects=None,
):
    reconnects = reconnects if reconnects is not None else [0]
    if first_delay:
        await asyncio.sleep(first_delay)
    reader, writer = await asyncio.open_connection(host, port)
    index = 0
    try:
        while time.monotonic() < deadline:
            started = time.monotonic()
            request = requests_[index % len(requests_)]
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed an idle keep-alive connection (gunicorn: after
                # 2 s): a poller opens a new one, as a browser would.
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                reconnects[0] += 1
                continue
            index += 1
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            if ages is not None and status == 200:
                age = _checked_age(body)
                if age is not None:
                    ages.append(age)
            latencies.append(time.monotonic() - started)
            statuses[status] += 1
            if rate_gap:
                await asyncio.sleep(max(0.0, rate_gap - (time.monotonic() - started)))
    finally:
        writer.close()


async def _process_main(host, port, paths, headers, connections, seconds, rate_gap, track):
    requests_ = [_request(host, port, path, headers) for path in paths]
    latencies: list[float] = []
    ages: list[float] | None = [] if track else None
    statuses: Counter = Counter()
    reconnects = [0]
    deadline = time.monotonic() + seconds
    results = await asyncio.gather(
        *(
            _connection(
                host,
                port,
                requests_[i % len(requests_) :] + requests_[: i % len(requests_)],
                deadline,
                latencies,
                statuses,
                rate_gap,
                ages,
                # Pollers start spread over one period, as real tabs would.
                rate_gap * i / max(connections, 1),
                reconnects,
            )
            for i in range(connections)
        ),
        return_exceptions=True,
    )
    errors = sum(1 for result in results if isinstance(result, BaseException))
    return latencies, dict(statuses), errors, ages or [], reconnects[0]


def _worker(args, queue) -> None:
    queue.put(asyncio.run(_process_main(*args)))


def run(
    host: str,
    port: int,
    paths: list[str],
    headers: dict[str, str],
    *,
    connections: int = 16,
    processes: int = 2,
    seconds: float = 10,
    rate_gap: float = 0.0,
    track_checked_at: bool = False,
) -> dict:
    """``rate_gap`` > 0 makes each connection wait that long between requests (a poller)."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    per_process = max(1, connections // processes)
    workers = [
        multiprocessing.Process(
            target=_worker,
            args=(
                (
                    host,
                    port,
                    paths[i::processes] or paths,
                    headers,
                    per_process,
                    seconds,
                    rate_gap,
                    track_checked_at,
                ),
                queue,
            ),
        )
        for i in range(processes)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors = 0
    ages: list[float] = []
    reconnects = 0
    for _ in workers:
        got, status_counts, failed, got_ages, got_reconnects = queue.get()
        reconnects += got_reconnects
        ages += got_ages
        latencies += got
        statuses.update(status_counts)
        errors += failed
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / max(elapsed, 1e-9), 1),
        "p50_ms": pct(0.50) if latencies else None,
        "p90_ms": pct(0.90) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
        "mean_ms": round(1000 * statistics.fmean(latencies), 2) if latencies else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "connection_errors": errors,
        "reconnects": reconnects,
        **(
            {
                "snapshot_age_max_s": round(max(ages), 1) if ages else None,
                "snapshot_age_p99_s": round(sorted(ages)[int(0.99 * len(ages))], 1)
                if ages
                else None,
            }
            if track_checked_at
            else {}
        ),
    }
