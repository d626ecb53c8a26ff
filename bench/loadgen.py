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
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _connection(host, port, requests_, deadline, latencies, statuses, rate_gap):
    reader, writer = await asyncio.open_connection(host, port)
    index = 0
    try:
        while time.monotonic() < deadline:
            started = time.monotonic()
            writer.write(requests_[index % len(requests_)])
            index += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.monotonic() - started)
            statuses[status] += 1
            if rate_gap:
                await asyncio.sleep(max(0.0, rate_gap - (time.monotonic() - started)))
    finally:
        writer.close()


async def _process_main(host, port, paths, headers, connections, seconds, rate_gap):
    requests_ = [_request(host, port, path, headers) for path in paths]
    latencies: list[float] = []
    statuses: Counter = Counter()
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
            )
            for i in range(connections)
        ),
        return_exceptions=True,
    )
    errors = sum(1 for result in results if isinstance(result, BaseException))
    return latencies, dict(statuses), errors


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
) -> dict:
    """``rate_gap`` > 0 makes each connection wait that long between requests (a poller)."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    per_process = max(1, connections // processes)
    workers = [
        multiprocessing.Process(
            target=_worker,
            args=(
                (host, port, paths[i::processes] or paths, headers, per_process, seconds, rate_gap),
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
    for _ in workers:
        got, status_counts, failed = queue.get()
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
    }
