"""`make run` serves the web app, a tunnel relay and the background worker; Ctrl-C stops all."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.processes import free_port as _free_port

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.live


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _recipe_from(ports: dict[str, int], first: str) -> str:
    """`make run`'s commands from the one naming ``first`` on, as `make -n run` prints
    them (the install steps before them are left out)."""
    arguments = [f"{name}={value}" for name, value in ports.items()]
    dry_run = subprocess.run(
        ["make", "-n", "run", "HOST=127.0.0.1", f"BIN={Path(sys.executable).parent}", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = dry_run.splitlines()
    start = next(index for index, line in enumerate(lines) if first in line)
    return "\n".join(lines[start:])


def _serve_command(ports: dict[str, int]) -> str:
    """The recipe's last command (relay + runserver)."""
    return _recipe_from(ports, "manage.py run_relay")


def _environment(tmp_path) -> dict[str, str]:
    """Embedded defaults, as on a fresh machine, with a data folder of the test's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["VISIONA_DATA_DIR"] = str(tmp_path / "var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env={**env, "DEBUG": "1"},
        check=True,
        timeout=120,
    )
    return env


def _start(command: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        ["sh", "-c", command],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C sees it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # A terminal delivers SIGINT to processes that have not ignored it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _kill_group(shell: subprocess.Popen) -> None:
    # The whole group: a relay left behind outlives the shell that started it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(shell.pid, signal.SIGKILL)
    shell.wait(timeout=10)


def _wait_for_empty_group(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.killpg(pgid, 0)  # any process of the group still there?
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def _workers_in(shell: subprocess.Popen) -> list[str]:
    """The command lines of the group's `db_worker` processes."""
    listing = subprocess.run(
        ["ps", "-o", "args=", "-g", str(shell.pid)], capture_output=True, text=True, check=False
    ).stdout
    return [line for line in listing.splitlines() if "manage.py db_worker" in line]


def _wait_closed(ports, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while any(_listening(port) for port in ports):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture
def ports() -> dict[str, int]:
    return {name: _free_port() for name in ("PORT", "RELAY_TUNNEL_PORT", "RELAY_INTERNAL_PORT")}


needs_make = pytest.mark.skipif(not shutil.which("make"), reason="needs make")


@needs_make
def test_make_run_starts_a_relay_and_a_worker_and_ctrl_c_stops_them(tmp_path, ports):
    command = _serve_command(ports)
    assert f"ws://127.0.0.1:{ports['RELAY_TUNNEL_PORT']}/tunnel" in command
    shell = _start(command, _environment(tmp_path))
    try:
        deadline = time.monotonic() + 60
        while not all(_listening(port) for port in ports.values()):
            assert shell.poll() is None, "make run's command exited"
            assert time.monotonic() < deadline, "the web server and the relay did not start"
            time.sleep(0.2)
        assert _workers_in(shell), "no background worker runs"
        os.killpg(shell.pid, signal.SIGINT)
        shell.wait(timeout=20)
        assert _wait_closed(ports.values(), 10), "something still listens"
        deadline = time.monotonic() + 10
        while _workers_in(shell):
            assert time.monotonic() < deadline, "the background worker outlived Ctrl-C"
            time.sleep(0.2)
    finally:
        _kill_group(shell)


@needs_make
def test_the_relay_stops_when_the_web_server_does(tmp_path, ports):
    relay_ports = [ports["RELAY_TUNNEL_PORT"], ports["RELAY_INTERNAL_PORT"]]
    with socket.socket() as taken:  # the web server cannot start: its port is in use
        taken.bind(("127.0.0.1", ports["PORT"]))
        taken.listen()
        shell = _start(_serve_command(ports), _environment(tmp_path))
        try:
            shell.wait(timeout=60)
            # Not "nothing listens yet" (a relay left behind may still be starting):
            # no process of the group is left at all, waited for with a deadline.
            assert _wait_for_empty_group(shell.pid, 60), (
                f"the relay or the background worker outlived the web server: {_workers_in(shell)}"
            )
            assert _wait_closed(relay_ports, 1)
        finally:
            _kill_group(shell)


@needs_make
def test_a_taken_relay_port_stops_make_run_with_the_reason(tmp_path, ports):
    with socket.socket() as taken:  # another program holds the relay's tunnel port
        taken.bind(("127.0.0.1", ports["RELAY_TUNNEL_PORT"]))
        taken.listen()
        shell = subprocess.Popen(
            ["sh", "-c", _serve_command(ports)],
            cwd=ROOT,
            env=_environment(tmp_path),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _out, err = shell.communicate(timeout=90)
        finally:
            _kill_group(shell)
    assert shell.returncode != 0
    port = ports["RELAY_TUNNEL_PORT"]
    assert f"The relay cannot listen on its tunnel port, 127.0.0.1:{port}" in err
    assert "it is taken" in err and "RELAY_TUNNEL_PORT=" in err
    assert "make run: the tunnel relay did not start" in err
    assert "Traceback" not in err
    assert not _listening(ports["PORT"]), "the web server started without its relay"


@needs_make
@pytest.mark.parametrize("variable", ["PORT", "RELAY_TUNNEL_PORT", "RELAY_INTERNAL_PORT"])
def test_a_taken_port_stops_make_run_before_anything_starts(tmp_path, ports, variable):
    # The whole recipe from its port check on, stopping at the first failing line as
    # make does: the check must stop it before migrate, the relay or the web server.
    recipe = _recipe_from(ports, "visiona.ports")
    with socket.socket() as taken:  # another program listens on that port
        taken.bind(("127.0.0.1", ports[variable]))
        taken.listen()
        shell = subprocess.Popen(
            ["sh", "-ec", recipe],
            cwd=ROOT,
            env={**os.environ, "VISIONA_DATA_DIR": str(tmp_path / "var")},
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = shell.communicate(timeout=60)
        finally:
            _kill_group(shell)
    assert shell.returncode != 0
    port = ports[variable]
    assert err.strip().splitlines() == [
        f"make run: cannot listen on 127.0.0.1:{port} ({variable}): it is taken (another "
        "`make run`, or another program, listens there). Stop what holds it, or choose "
        f"another port: `make run {variable}={port + 10}`. Nothing was started."
    ]
    assert "Traceback" not in out + err
    assert not (tmp_path / "var").exists(), "migrate ran: the check came too late"
    assert not any(_listening(other) for name, other in ports.items() if name != variable)


def test_free_ports_pass_the_check(ports):
    checked = subprocess.run(
        [sys.executable, "-m", "visiona.ports", "127.0.0.1"]
        + [f"{name}={port}" for name, port in ports.items()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_a_port_that_is_no_number_is_refused_in_one_line():
    checked = subprocess.run(
        [sys.executable, "-m", "visiona.ports", "127.0.0.1", "PORT=80a"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 2
    assert checked.stderr == "make run: PORT must be a port number (1-65535), not '80a'.\n"
