"""The loopback stack's ports: never one handed out twice, never one in use."""

from __future__ import annotations

import socket
from pathlib import Path

from deploy import processes


def test_ports_are_never_handed_out_twice_even_once_their_probe_is_closed() -> None:
    ports = [processes.free_port() for _ in range(50)]

    assert len(set(ports)) == len(ports)


def test_ports_come_from_below_the_range_outgoing_connections_take_theirs_from() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])

    assert all(processes.free_port() < low for _ in range(5))


def test_a_port_someone_listens_on_is_passed_over(monkeypatch) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        taken = holder.getsockname()[1]
        holder.listen()
        # Walk from the taken port, as if it were next in this process's stretch.
        monkeypatch.setattr(processes, "_next_port", [taken])
        monkeypatch.setattr(processes, "_PORTS_HIGH", max(processes._PORTS_HIGH, taken + 2))

        assert processes.free_port() != taken
