"""Slow streams against everyone else: many slow uploads and slow model downloads open at
once through nginx, while another user's API GET and /healthz are timed.

    .venv/bin/python bench/streams_isolation_bench.py [--uploads 200] [--downloads 200]
        [--rate 10240] [--seconds 20] [--mib 10]

On the loopback stack (deploy/loopback.py: nginx with deploy/nginx/, gunicorn 2 x 8 as
the image runs it, a relay node, PostgreSQL, Redis; the app's default caps and floor
rate). First the idle figures: another user's GET /api/models/ (signed in) and
/healthz, one request at a time for ``--seconds``. Then, from a separate process, the
slow clients connect: ``--uploads`` My models uploads (POST /api/models/) sending
``--rate`` bytes per second each, and ``--downloads`` downloads of a ``--mib`` MiB model
reading ``--rate`` bytes per second each; once they are all connected, the same GETs
are timed again. Prints JSON: p50 / p90 of both, idle and loaded, their ratio (target:
API GET <= 1.2x idle, /healthz p50 <= 50 ms), what became of the slow clients
(uploads still streaming, refused 503 uploads_busy, cut 408 upload_too_slow; downloads
still reading), the RSS of every process of the stack, the CPU each role used while the
loaded figures were taken (cores: 1.0 is one core busy), and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import multiprocessing
import os
import sys
import time
import uuid
import zlib
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.loopback import LoopbackStack

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/visiona_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
PIECE_SECONDS = 0.25  # a slow client acts four times a second


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def nef(size: int) -> bytes:
    """A NEF-shaped file: content, then its big-endian CRC-32 (as the app checks)."""
    block = hashlib.sha256(b"isolation").digest()
    body = (block * (size // len(block) + 1))[: size - 4]
    return body + zlib.crc32(body).to_bytes(4, "big")


def upload_form(data: bytes, boundary: str) -> tuple[bytes, bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="chips"\r\n\r\nKL520\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="m.nef"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head, data + f"\r\n--{boundary}--\r\n".encode()


def timed_gets(port: int, path: str, headers: dict, seconds: float) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, statuses = [], Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        connection.request("GET", path, headers={"Accept": "application/json", **headers})
        answer = connection.getresponse()
        answer.read()
        latencies.append(time.perf_counter() - started)
        statuses[answer.status] += 1
    connection.close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "p90_ms": round(1000 * latencies[int(len(latencies) * 0.9)], 2),
        "statuses": dict(statuses),
    }


def timed_phase(stack: LoopbackStack, watched: dict, headers: dict, seconds: float):
    """The timed GETs, and the CPU each role of ``watched`` used meanwhile (in cores)."""
    before = {role: sum(cpu_seconds(pid) for pid in pids) for role, pids in watched.items()}
    started = time.monotonic()
    figures = {
        "api_get": timed_gets(stack.nginx_port, "/api/models/", headers, seconds),
        "healthz": timed_gets(stack.nginx_port, "/healthz", {}, seconds),
    }
    elapsed = time.monotonic() - started
    shares = {
        role: round((sum(cpu_seconds(pid) for pid in pids) - before[role]) / elapsed, 3)
        for role, pids in watched.items()
    }
    return figures, shares


# --- the slow clients, in a process of their own -------------------------------------


class _Filler:
    """``size`` bytes of filler then ``tail``, sliced without ever being held whole."""

    def __init__(self, size: int, tail: bytes) -> None:
        self.size, self.tail = size, tail

    def __len__(self) -> int:
        return self.size + len(self.tail)

    def __getitem__(self, part: slice) -> bytes:
        start, stop, _ = part.indices(len(self))
        filler = b"\x08" * max(0, min(stop, self.size) - start)
        return filler + self.tail[max(0, start - self.size) : max(0, stop - self.size)]


async def slow_upload(port: int, token: str, rate: int, size: int, outcome: Counter, ready):
    boundary = "slow" + uuid.uuid4().hex
    head, tail = upload_form(b"", boundary)
    # The file's bytes are never all sent at this rate: filler, made as it goes.
    rest = _Filler(size, tail)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"POST /api/models/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(head) + len(rest)}\r\n\r\n"
        ).encode()
        + head
    )
    ready.append(1)
    piece = max(1, int(rate * PIECE_SECONDS))
    sent = 0
    answer = asyncio.ensure_future(reader.readline())
    try:
        while sent < len(rest):
            done, _ = await asyncio.wait({answer}, timeout=PIECE_SECONDS)
            if done:
                status = answer.result().split(b" ")[1:2]
                outcome[
                    {b"503": "refused_503", b"408": "cut_408"}.get(status[0], "other")
                    if status
                    else "closed"
                ] += 1
                return
            writer.write(rest[sent : sent + piece])
            sent += piece
            await writer.drain()
        outcome["finished"] += 1
    except OSError:
        outcome["connection_error"] += 1
    finally:
        answer.cancel()
        writer.close()


async def slow_download(port: int, token: str, model_id: int, rate: int, outcome: Counter, ready):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**16)
    writer.write(
        f"GET /api/models/{model_id}/download HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    ready.append(1)
    piece = max(1, int(rate * PIECE_SECONDS))
    try:
        status = (await reader.readline()).split(b" ")[1:2]
        if status != [b"200"]:
            outcome[f"status_{status}"] += 1
            return
        while True:
            data = await reader.read(piece)
            if not data:
                outcome["finished"] += 1
                return
            await asyncio.sleep(PIECE_SECONDS)
    except OSError:
        outcome["connection_error"] += 1
    finally:
        writer.close()


async def _slow_clients(args, port, token, model_id, status, stop) -> None:
    uploads, downloads, ready = Counter(), Counter(), []
    tasks = [
        asyncio.ensure_future(
            slow_upload(port, token, args.rate, args.upload_bytes, uploads, ready)
        )
        for _ in range(args.uploads)
    ] + [
        asyncio.ensure_future(slow_download(port, token, model_id, args.rate, downloads, ready))
        for _ in range(args.downloads)
    ]
    while not stop.is_set():
        status.update(
            connected=len(ready),
            uploads=dict(uploads),
            downloads=dict(downloads),
            uploads_streaming=args.uploads - sum(uploads.values()),
            downloads_reading=args.downloads - sum(downloads.values()),
        )
        await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def slow_clients_process(args, port, token, model_id, status, stop) -> None:
    asyncio.run(_slow_clients(args, port, token, model_id, status, stop))


# --- the run -------------------------------------------------------------------------


def upload_model(stack: LoopbackStack, token: str, mib: int) -> int:
    boundary = "model" + uuid.uuid4().hex
    head, rest = upload_form(nef(mib * 1024 * 1024), boundary)
    connection = http.client.HTTPConnection("127.0.0.1", stack.nginx_port, timeout=120)
    connection.request(
        "POST",
        "/api/models/",
        body=head + rest,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    answer = connection.getresponse()
    body = answer.read()
    if answer.status != 201:
        raise RuntimeError(f"model upload: {answer.status} {body[:200]!r}")
    return json.loads(body)["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--downloads", type=int, default=200)
    parser.add_argument("--rate", type=int, default=10 * 1024, help="bytes/s per slow client")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--mib", type=int, default=10, help="the downloaded model's size")
    args = parser.parse_args()
    args.upload_bytes = 50 * 1024 * 1024  # never sent whole at this rate
    stack = LoopbackStack(database_url=DATABASE_URL, redis_url=REDIS_URL)
    report: dict = {"load_before": load_average(), "slow_clients": vars(args).copy()}
    try:
        stack.start()
        name = f"iso{uuid.uuid4().hex[:8]}"
        slow_token = stack.tokens([name + "slow"], scopes="read convert")[0]
        other = {"Cookie": f"visiona_session={stack.sessions([name + 'other'])[0]}"}
        model_id = upload_model(stack, slow_token, args.mib)
        idle, report["cpu_share_idle"] = timed_phase(stack, stack.pids(), other, args.seconds)
        manager = multiprocessing.Manager()
        status, stop = manager.dict(), manager.Event()
        clients = multiprocessing.Process(
            target=slow_clients_process,
            args=(args, stack.nginx_port, slow_token, model_id, status, stop),
        )
        clients.start()
        total = args.uploads + args.downloads
        deadline = time.monotonic() + 120
        while status.get("connected", 0) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # let the refusals and the first pieces happen
        # Who spends the CPU meanwhile: the two cores are shared by the stack, the slow
        # clients' process and this one's timed requests.
        watched = {**stack.pids(), "slow clients": [clients.pid]}
        loaded, report["cpu_share_loaded"] = timed_phase(stack, watched, other, args.seconds)
        report["slow_clients_during"] = dict(status)
        report["rss_mib"] = {
            role: {pid: rss_mib(pid) for pid in pids} for role, pids in stack.pids().items()
        }
        stop.set()
        clients.join(timeout=60)
        report["idle"], report["loaded"] = idle, loaded
        report["api_get_p50_ratio"] = round(
            loaded["api_get"]["p50_ms"] / idle["api_get"]["p50_ms"], 3
        )
        report["healthz_p50_ms_loaded"] = loaded["healthz"]["p50_ms"]
    finally:
        stack.stop()
        stack.remove()
    report["load_after"] = load_average()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
