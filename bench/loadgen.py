"""Low-overhead HTTP/1.1 load generators.

``run``: raw keep-alive sockets driven by asyncio, in several processes so the
client does not become the bottleneck: each connection sends one pre-built GET,
reads the answer (headers + Content-Length body) and sends the next. It records
every latency and status, and can pace its connections (pollers every 2 s).

``run_wrk``: the same closed loop driven by wrk (C, epoll), where it is installed
(Debian's ``wrk`` package): it costs a fraction of the asyncio client's CPU, which
on two cores is CPU taken from the server. It reports latency percentiles and
wrk's error counts (non-2xx answers, socket errors, timeouts).

    run(host, port, paths, headers, connections=16, processes=2, seconds=10)
    run_wrk(host, port, [(path, headers), ...], connections=16, threads=2, seconds=10)
      -> {"requests", "rps", "p50_ms", "p90_ms", "p99_ms", "statuses", ...}
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path


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


# Each wrk thread walks the request list from its own offset, one request after
# another on each keep-alive connection; done() prints the figures as JSON.
_WRK_SCRIPT = r"""
local requests = {}
local counter = 0
local threads = {}
%(requests)s
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = tonumber(offset) or 0
end
function request()
  counter = counter + 1
  return requests[(counter %% #requests) + 1]
end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"mean_us": %%f, "non_2xx_3xx": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"timeout": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    host: str,
    port: int,
    requests_: list[tuple[str, dict[str, str]]],
    *,
    connections: int = 16,
    threads: int = 2,
    seconds: float = 10,
) -> dict:
    """``requests_``: (path, headers) pairs, sent in turn on every connection."""
    lines = []
    for path, headers in requests_:
        table = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}"
            for k, v in {"Accept": "application/json", **headers}.items()
        )
        lines.append(f'table.insert(requests, wrk.format("GET", {_lua_string(path)}, {{{table}}}))')
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "requests.lua"
        script.write_text(_WRK_SCRIPT % {"requests": "\n".join(lines)})
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                str(script),
                f"http://{host}:{port}/",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    done = figures["requests"]
    failed = figures["non_2xx_3xx"]
    return {
        "client": "wrk",
        "requests": done,
        "rps": round(done / max(figures["duration_us"] / 1e6, 1e-9), 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p90_ms": round(figures["p90_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "mean_ms": round(figures["mean_us"] / 1000, 2),
        "statuses": {"2xx/3xx": done - failed, "other": failed},
        "connection_errors": figures["connect"] + figures["read"] + figures["write"],
        "timeouts": figures["timeout"],
    }
