"""``python -m visiona.ports HOST NAME=PORT …``: `make run`'s first step.

It checks that each port `make run` will listen on is free before anything starts,
so a taken one stops it with one line naming the port and the variable that moves
it, not a runserver traceback after the relay and the worker already started. The
standard library only: it runs before Django is imported, in a fraction of a second.
"""

from __future__ import annotations

import errno
import socket
import sys


def port_problem(host: str, port: int) -> str | None:
    """Why a server could not listen on host:port (None: it could).

    SO_REUSEADDR, as the servers themselves bind: a port still in TIME_WAIT after the
    last `make run` is free to them, and only a port something listens on is taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return "it is taken (another `make run`, or another program, listens there)"
        return exc.strerror or str(exc)
    return None


def taken_ports_message(host: str, ports: dict[str, int]) -> str | None:
    """One line for the first port `make run` cannot listen on, with the way out."""
    for variable, port in ports.items():
        problem = port_problem(host, port)
        if problem:
            return (
                f"make run: cannot listen on {host}:{port} ({variable}): {problem}. Stop "
                f"what holds it, or choose another port: `make run {variable}={port + 10}`. "
                "Nothing was started."
            )
    return None


def main(arguments: list[str]) -> int:
    host, *assignments = arguments
    ports: dict[str, int] = {}
    for assignment in assignments:
        variable, _, value = assignment.partition("=")
        if not value.isdigit() or not 0 < int(value) < 65536:
            refusal = f"make run: {variable} must be a port number (1-65535), not {value!r}."
            print(refusal, file=sys.stderr)
            return 2
        ports[variable] = int(value)
    message = taken_ports_message(host, ports)
    if message:
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
