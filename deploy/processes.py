"""The loopback stack's processes: free ports, waiting for them, their logs."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Ports handed out come from below the kernel's ephemeral range (32768-60999 by
# default), so no outgoing connection can take one between the probe and the bind,
# and never twice from one process: asking the kernel for port 0 twice in a row can
# give the same port once the first probe is closed, and a relay started with its
# tunnel and internal ports equal fails (seen in CI). Each pytest-xdist worker walks
# its own stretch, so two workers do not race for one port either.
_PORTS_LOW, _PORTS_HIGH, _STRETCH = 20000, 32000, 1500
_handed_out: set[int] = set()
_next_port: list[int] = []


def _first_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else None
    slot = index if index is not None and index < 6 else 6 + os.getpid() % 2
    return _PORTS_LOW + slot * _STRETCH


def free_port() -> int:
    """A port nothing listens on now, and one this process has not handed out before."""
    if not _next_port:
        _next_port.append(_first_port())
    for _ in range(_PORTS_HIGH - _PORTS_LOW):
        port = _next_port[0]
        _next_port[0] = port + 1 if port + 1 < _PORTS_HIGH else _PORTS_LOW
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port left between {_PORTS_LOW} and {_PORTS_HIGH}")


def wait_until(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.05)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def answers(port: int, path: str = "/healthz") -> bool:
    """True once an HTTP answer with a status below 500 comes back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            request = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
            sock.sendall(request.encode())
            head = sock.recv(64)
    except OSError:
        return False
    parts = head.split(b" ", 2)
    return len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < 500


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def check(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
