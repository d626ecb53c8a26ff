"""The shell commands the pairing page (and the pairing-code API) show for the agent."""

from __future__ import annotations

import shlex

# The agent's default for the local device API (client/visiona_client/local_device.py).
AGENT_LOCAL_URL = "http://127.0.0.1:8765"


def _server(server_url: str) -> str:
    return shlex.quote(server_url.rstrip("/"))


def install_command(*, wheel_url: str, extra: str = "") -> str:
    """``extra``: e.g. "demo" (onnxruntime, numpy, Pillow), named on the wheel's URL
    the PEP 508 way: pip looks a bare ``visiona-client[demo]`` up on the public index."""
    if extra:
        return f"pip install {shlex.quote(f'visiona-client[{extra}] @ {wheel_url}')}"
    return f"pip install {shlex.quote(wheel_url)}"


def pair_command(*, server_url: str, code: str, demo: bool = False) -> str:
    """Pair with ``code``; the agent reads the serial and chip from the local device API."""
    command = f"visiona-agent pair --server {_server(server_url)} --code {shlex.quote(code)}"
    return command + " --demo" if demo else command


def run_command(*, server_url: str, demo: bool = False) -> str:
    local = "--demo" if demo else f"--local-url {AGENT_LOCAL_URL}"
    return f"visiona-agent run --server {_server(server_url)} {local}"


# The agent's demo device names itself DEMO-<chip>-<hash> (visiona_client.demo_device).
DEMO_SERIAL_PREFIX = "DEMO-"


def is_demo_serial(serial: str) -> bool:
    """A device paired with ``--demo``: its agent must run with ``--demo`` too."""
    return serial.startswith(DEMO_SERIAL_PREFIX)
