"""``visiona-agent``: pair this machine with visionA, run the agent, show its state.

Exit codes: 0 done (or stopped with Ctrl-C), 1 an error, 2 a usage error,
3 visionA refuses this device (token revoked or expired, device unpaired).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shlex
import signal
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from visiona_client import __version__, allocator, state
from visiona_client.agent import AGENT_VERSION, Agent, DeviceRefused
from visiona_client.agent_status import print_status, status_report
from visiona_client.demo_device import DEMO_CHIP, DemoDevice, demo_serial, system_deps
from visiona_client.demo_inference import missing_runtime
from visiona_client.deployment_job import JobRunner
from visiona_client.deployments import DeploymentWorker
from visiona_client.local_device import (
    DEFAULT_LOCAL_URL,
    Dongle,
    LocalDeviceError,
    dongles,
    fetch_deps,
    pick_dongle,
)
from visiona_client.models_folder import ModelsFolder
from visiona_client.runs import RunWorker
from visiona_client.server_api import ServerApi, ServerError, is_loopback, normalize_server_url

logger = logging.getLogger("visiona_client")

EXIT_ERROR = 1
EXIT_REFUSED = 3
# What a deployment to a demo device run with --demo-refuse-installs fails with.
REFUSED_INSTALL = "the demo device refuses installs (visiona-agent run --demo-refuse-installs)"
_TOKEN_PATTERN = re.compile(r"vad_[A-Za-z0-9_-]+")


class CommandError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _RedactTokens(logging.Filter):
    """A second line of defence: whatever a log line says, no device token gets through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "vad_" in message:
            record.msg, record.args = _TOKEN_PATTERN.sub("vad_…", message), None
        return True


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(_RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # urllib3 says which URLs it opens at DEBUG; that is all it needs to say.
    logging.getLogger("urllib3").setLevel(logging.INFO)
    # The tunnel's libraries narrate every frame and header at DEBUG (hpack would log
    # the Authorization header of the handshake): never below INFO.
    for name in ("websockets", "hpack", "h2"):
        logging.getLogger(name).setLevel(logging.INFO)


def _server_url(raw: str) -> str:
    try:
        url = normalize_server_url(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return url


def _warn_if_plain_http(server: str) -> None:
    if server.startswith("http://") and not is_loopback(server):
        logger.warning("%s is plain HTTP: the device token would travel unencrypted", server)


def _state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state_dir).expanduser() if args.state_dir else state.default_state_dir()


def _models_dir(args: argparse.Namespace) -> Path:
    """``--models-dir``, default ``<state dir>/models``."""
    if args.models_dir:
        return Path(args.models_dir).expanduser().resolve()
    return _state_dir(args) / "models"


# pair ------------------------------------------------------------------------


def _dongle_for_pairing(args: argparse.Namespace) -> Dongle:
    if args.serial and args.chip:
        return pick_dongle([], serial=args.serial, chip=args.chip)
    if args.demo:
        deps, where = system_deps(), "the demo device"
    else:
        where = f"the local device API at {args.local_url}"
        try:
            deps = fetch_deps(args.local_url)
        except LocalDeviceError as exc:
            raise CommandError(
                f"{exc}\nGive --serial and --chip, or --local-url, or --demo to pair the "
                "built-in demo device."
            ) from None
    try:
        dongle = pick_dongle(dongles(deps), serial=args.serial, chip=args.chip)
    except LocalDeviceError as exc:
        raise CommandError(f"{where}: {exc}. {_what_else_to_give(args)}") from None
    logger.info("pairing the %s dongle %s reported by %s", dongle.chip, dongle.serial, where)
    return dongle


def _what_else_to_give(args: argparse.Namespace) -> str:
    """What makes the pairing work when the dongle reported does not fit: the serial and
    the chip together pair without asking the local device API."""
    if args.serial:
        return f"To pair {args.serial} as it is, give its chip too (--chip, e.g. --chip KL720)."
    if args.chip:
        return "Give the dongle's serial too (--serial)."
    return "Give --serial and --chip."


def _pairing_hint(args: argparse.Namespace, error: ServerError) -> str:
    if args.demo and error.code == "serial_already_paired":
        # demo_serial() is one per user and machine: a second demo agent needs its own.
        return (
            "\nThis machine's demo device is already paired (its serial is one per user and "
            "machine). To pair another demo agent, give it its own serial and the chip: "
            f"--serial {demo_serial()}-2 --chip {DEMO_CHIP}, with its own --state-dir."
        )
    return ""


def _refuse_to_replace_a_working_pairing(state_dir: Path) -> None:
    try:
        current = state.load(state_dir)
    except state.StateError:
        return
    try:
        ServerApi(current.server, token=current.token).me()
    except ServerError as exc:
        if exc.refused:
            logger.info("replacing the old pairing: visionA no longer accepts its token")
        return
    raise CommandError(
        f"this machine is already paired with {current.server} as device "
        f"{current.device_id}. Unpair it on visionA first, or pass --force to replace it."
    )


def command_pair(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    _warn_if_plain_http(args.server)
    if not args.force:
        _refuse_to_replace_a_working_pairing(state_dir)
    dongle = _dongle_for_pairing(args)
    api = ServerApi(args.server)
    try:
        pairing = api.pair(
            code=args.code,
            serial=dongle.serial,
            chip=dongle.chip,
            name=args.name or "",
            agent_version=AGENT_VERSION,
        )
    except ServerError as exc:
        raise CommandError(f"pairing failed: {exc}{_pairing_hint(args, exc)}") from None
    path = state.save(
        state_dir,
        state.State(
            server=api.server_url,
            device_id=pairing.device_id,
            token=pairing.token,
            paired_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            token_expires_at=pairing.token_expires_at,
            serial=dongle.serial,
            chip=dongle.chip,
            heartbeat_interval_seconds=pairing.heartbeat_interval_seconds,
        ),
    )
    local = "--demo" if args.demo else f"--local-url {shlex.quote(args.local_url)}"
    # The same folder as this pairing's, or `run` would look for the default one.
    folder = f" --state-dir {shlex.quote(args.state_dir)}" if args.state_dir else ""
    print(f"Paired with {api.server_url} as device {pairing.device_id} ({dongle.serial}).")
    print(f"The device token is in {path} (readable by you only).")
    print(f"Now keep it online: visiona-agent run --server {api.server_url} {local}{folder}")
    return 0


# run -------------------------------------------------------------------------


def _load_for_server(args: argparse.Namespace) -> state.State:
    try:
        current = state.load(_state_dir(args))
    except state.StateError as exc:
        raise CommandError(str(exc), EXIT_REFUSED) from None
    if args.server and args.server != current.server:
        raise CommandError(
            f"this machine is paired with {current.server}, not {args.server}. "
            "Pair it with that server first, or use another --state-dir."
        )
    return current


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def command_run(args: argparse.Namespace) -> int:
    if args.demo_refuse_installs and not args.demo:
        raise CommandError("--demo-refuse-installs is for the demo device: add --demo", 2)
    current = _load_for_server(args)
    _warn_if_plain_http(current.server)
    # A service manager stops with SIGTERM: the same clean exit as Ctrl-C.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    allocator.keep_large_blocks()  # before the tunnel moves its first large answer
    models = ModelsFolder(_models_dir(args))
    try:
        models.ensure()
    except OSError as exc:
        raise CommandError(f"cannot use the models folder {models.root}: {exc.strerror}") from None
    demo = DemoDevice(args.demo_port, models_dir=models.root).start() if args.demo else None
    if demo and missing_runtime():
        logger.warning("%s. Until then every run on this device fails.", missing_runtime())
    try:
        api = ServerApi(current.server, token=current.token)
        runner = JobRunner(
            api=api,
            models=models,
            chip=current.chip,
            refuse_installs=REFUSED_INSTALL if args.demo and args.demo_refuse_installs else "",
        )
        local_url = demo.url if demo else args.local_url
        agent = Agent(
            api=api,
            local_url=local_url,
            heartbeat_interval=current.heartbeat_interval_seconds,
            deployments=DeploymentWorker(api=api, runner=runner),
            runs=RunWorker(api=api, models=models, local_url=local_url),
        )
        logger.info(
            "agent for device %s: heartbeats to %s, local device API %s, models in %s",
            current.device_id,
            current.server,
            agent.local_url,
            models.root,
        )
        agent.run()
    except DeviceRefused as exc:
        raise CommandError(str(exc), EXIT_REFUSED) from None
    except ServerError as exc:
        raise CommandError(f"visionA refused the heartbeat: {exc}") from None
    finally:
        if demo:
            demo.stop()
    return 0


# status ----------------------------------------------------------------------


def command_status(args: argparse.Namespace) -> int:
    report = status_report(state_dir=_state_dir(args), models_dir=_models_dir(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_status(report)
    if not report["paired"] or report["server_accepts_token"] is False:
        return EXIT_REFUSED
    return 0 if report["server_accepts_token"] else EXIT_ERROR


# parser ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="visiona-agent",
        description="The visionA Cloud agent for a machine with a Kneron chip.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (to stderr)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_state_dir(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--state-dir",
            help=f"the pairing and device token's folder (default: {state.default_state_dir()})",
        )

    def add_models_dir(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--models-dir",
            help="the folder the local device API loads models from (default: <state-dir>/models)",
        )

    pair = commands.add_parser("pair", help="pair this machine with a code from visionA")
    pair.add_argument("--server", required=True, type=_server_url, help="visionA's address")
    pair.add_argument("--code", required=True, help="the code from the Pair a device page")
    pair.add_argument("--serial", help="the dongle's serial (default: from the local device API)")
    pair.add_argument("--chip", help="the dongle's chip, e.g. KL720 (default: likewise)")
    pair.add_argument("--name", help="a name for the device on visionA (default: the serial)")
    pair.add_argument(
        "--local-url", default=DEFAULT_LOCAL_URL, help=f"the local device API ({DEFAULT_LOCAL_URL})"
    )
    pair.add_argument("--demo", action="store_true", help="pair the built-in demo device")
    pair.add_argument("--force", action="store_true", help="replace a pairing that still works")
    add_state_dir(pair)
    pair.set_defaults(handler=command_pair)

    run = commands.add_parser("run", help="keep this machine connected to visionA")
    run.add_argument("--server", type=_server_url, help="visionA's address (default: as paired)")
    local = run.add_mutually_exclusive_group(required=True)
    local.add_argument("--local-url", help=f"the local device API, e.g. {DEFAULT_LOCAL_URL}")
    local.add_argument(
        "--demo", action="store_true", help="serve a built-in demo device API on 127.0.0.1"
    )
    run.add_argument(
        "--demo-port", type=int, default=0, help="the demo's port (default: any free one)"
    )
    run.add_argument(
        "--demo-refuse-installs",
        action="store_true",
        help="with --demo: every deployment fails (install_failed), for trying rollouts",
    )
    add_state_dir(run)
    add_models_dir(run)
    run.set_defaults(handler=command_run)

    status = commands.add_parser("status", help="show the pairing and whether visionA accepts it")
    status.add_argument("--json", action="store_true", help="print JSON, for scripts")
    add_state_dir(status)
    add_models_dir(status)
    status.set_defaults(handler=command_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        code: int = args.handler(args)
        return code
    except (CommandError, state.StateError) as exc:
        logger.error("%s", exc)
        return getattr(exc, "exit_code", EXIT_ERROR)
    except KeyboardInterrupt:
        logger.info("stopped")
        return 0
