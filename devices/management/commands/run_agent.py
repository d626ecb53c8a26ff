"""A reference agent: pair with a code, then send heartbeats.

    python manage.py run_agent --server https://visiona.example.com \\
        --code ABCD-EFGH --serial KL720-0001 [--chip KL720] [--count 3]

The device token stays in memory; ``--token-file`` also keeps it in a file
(mode 0600) so a later run can resume with ``--token-file`` and no code.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

import visiona
from devices.agent_client import AgentApiError, AgentClient
from devices.choices import Chip


class Command(BaseCommand):
    help = "Run a reference device agent: pair with a code, then send heartbeats."

    # Replaced in tests: no real sleeping between heartbeats.
    sleep = staticmethod(time.sleep)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", required=True, help="visionA Cloud base URL")
        parser.add_argument("--code", help="pairing code shown on the Pair a device page")
        parser.add_argument("--serial", help="this device's serial number (needed to pair)")
        parser.add_argument("--chip", default=Chip.KL520, choices=Chip.values)
        parser.add_argument("--name", default="", help="a name for the device (default: serial)")
        parser.add_argument("--agent-version", default=f"run_agent/{visiona.__version__}")
        parser.add_argument("--status", default="ready", help="status sent with each heartbeat")
        parser.add_argument("--interval", type=float, default=None, help="seconds between beats")
        parser.add_argument("--count", type=int, default=0, help="stop after N beats (0: never)")
        parser.add_argument("--token-file", type=Path, help="keep the device token here (0600)")
        parser.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout, seconds")

    def handle(self, *args, **options) -> None:
        client = AgentClient(options["server"], timeout=options["timeout"])
        interval = options["interval"]
        try:
            if options["code"]:
                pairing = self._pair(client, options)
                if interval is None:
                    interval = pairing.heartbeat_interval_seconds
            elif options["token_file"] and options["token_file"].exists():
                client.token = options["token_file"].read_text().strip()
            else:
                raise CommandError(
                    "give --code (and --serial) to pair, or an existing --token-file"
                )
            self._beat(client, options, interval=30.0 if interval is None else interval)
        except AgentApiError as exc:
            detail = f" ({exc.code})" if exc.code else ""
            raise CommandError(f"{exc}{detail}") from None

    def _pair(self, client: AgentClient, options):
        if not options["serial"]:
            raise CommandError("--serial is needed to pair")
        pairing = client.pair(
            code=options["code"],
            serial=options["serial"],
            chip=options["chip"],
            name=options["name"],
            agent_version=options["agent_version"],
        )
        # The token is never printed: only the device id.
        self.stdout.write(f"Paired: device {pairing.device_id}")
        if options["token_file"]:
            _write_private(options["token_file"], pairing.token)
            self.stdout.write(f"Device token saved to {options['token_file']} (mode 0600)")
        return pairing

    def _beat(self, client: AgentClient, options, *, interval: float) -> None:
        sent = 0
        while True:
            try:
                answer = client.heartbeat(
                    status=options["status"], agent_version=options["agent_version"]
                )
            except AgentApiError as exc:
                if exc.status == 401:
                    raise CommandError("the server refused the device token (unpaired?)") from None
                self.stderr.write(f"Heartbeat failed: {exc}; retrying")
            else:
                self.stdout.write(
                    f"Heartbeat: {answer.get('connection_status')} at {answer.get('last_seen_at')}"
                )
            sent += 1
            if options["count"] and sent >= options["count"]:
                return
            self.sleep(interval)


def _write_private(path: Path, secret: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # O_CREAT's mode does not apply to a file that already existed.
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
