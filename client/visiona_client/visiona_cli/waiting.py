"""What every ``--wait`` shares (a job, a deployment, a run): the poll interval, the
overall ``--timeout``, retrying a poll that failed for a moment, and saying once that
the device it waits for is offline.

- ``--timeout SECONDS``: past it, the command stops waiting and exits 4
  (``wait_timeout``, the table's "timeout"), saying what was still going on and how to
  follow it again; what it followed goes on on visionA. The error's ``details`` name it
  for a script (``{"job_id", "status"}``, ``{"deployment_id", "state"}``,
  ``{"run_id", "state"}``: the last state seen), so it can follow or cancel it without
  reading the message. Without it, a wait has no end:
  a deployment to an offline device waits for the device.
- A poll that got no answer, or a 502, 503 or 504 (a restart, a proxy between), is tried
  again RETRIES times, the interval doubling each time (1, 2, 4, 8, 16 s at the default
  interval: about half a minute) before the command gives up, exit 4, saying how to
  follow it again.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError
from visiona_client.visiona_cli.output import Output

RETRIES = 5
_TRANSIENT_STATUSES = frozenset({502, 503, 504})
# How often a wait for a device that was offline looks at it again.
DEVICE_CHECK_SECONDS = 15.0


def add_timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="stop waiting after this long (exit 4; it goes on on visionA); default: no limit",
    )


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {raw!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("give more than 0 seconds")
    return value


def is_transient(error: CliError) -> bool:
    return error.code == "network_error" or error.status in _TRANSIENT_STATUSES


class Waiting:
    """One command's waits: ``timeout`` counts from when the command made it."""

    def __init__(self, out: Output, *, poll_seconds: float, timeout: float | None) -> None:
        self.out = out
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout if timeout else None
        self._offline_noted: set[str] = set()
        self._device_checked: dict[str, float] = {}

    @classmethod
    def of(cls, args: argparse.Namespace) -> Waiting:
        """The command's one ``Waiting``: its steps (convert --run-on: the job, the
        deployment, the run) share the deadline."""
        waiting = getattr(args, "waiting", None)
        if not isinstance(waiting, Waiting):
            waiting = args.waiting = cls(
                args.output, poll_seconds=args.poll_seconds, timeout=getattr(args, "timeout", None)
            )
        return waiting

    def pause(
        self, *, still: str, follow_again: str, details: dict[str, Any] | None = None
    ) -> None:
        """One poll interval; past the deadline, the ``wait_timeout`` error instead.
        ``still``: what is going on ("Deployment X is pending"); ``details``: the same
        for a script, the error's details (what it waits for and its last state)."""
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise CliError(
                    f"Stopped waiting after {self.timeout:g} s (--timeout): {still}; it goes on "
                    f"on visionA. {follow_again}",
                    exit_code=exit_codes.SERVER,
                    code="wait_timeout",
                    details=dict(details or {}),
                )
            time.sleep(min(self.poll_seconds, left))
            return
        time.sleep(self.poll_seconds)

    def get_json(self, api: Api, path: str, *, follow_again: str) -> dict[str, Any]:
        """``api.get_json(path)``, tried again after a transient failure (with backoff)."""
        for attempt in range(RETRIES + 1):
            try:
                return api.get_json(path)
            except CliError as error:
                if not is_transient(error):
                    raise
                if attempt == RETRIES:
                    error.message = f"{error.message} Gave up after {RETRIES} tries. {follow_again}"
                    raise
                delay = self.poll_seconds * 2**attempt
                self.out.note(f"{error.message} Trying again in {delay:g} s.")
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def note_if_offline(self, api: Api, device: dict[str, Any], *, waiting_for: bool) -> None:
        """Once per device: say it is offline while what follows waits for it. The
        device as resolved is looked at first, then visionA every DEVICE_CHECK_SECONDS."""
        device_id = str(device.get("id"))
        if not waiting_for or device_id in self._offline_noted:
            return
        now = time.monotonic()
        checked = self._device_checked.get(device_id)
        if checked is None:
            status = device.get("connection_status")
        elif now - checked >= DEVICE_CHECK_SECONDS:
            try:
                status = api.get_json(f"/api/devices/{device_id}").get("connection_status")
            except CliError:
                status = None  # a look only: the wait's own polls report failures
        else:
            return
        self._device_checked[device_id] = now
        if status == "offline":
            self._offline_noted.add(device_id)
            self.out.note(
                f"Device {device.get('name') or device_id} is offline; waiting for it to "
                "connect (its agent: visiona-agent run)."
            )
