"""``visiona-agent status``: this machine's pairing, whether visionA still accepts its
token, and the models installed, as a report (``--json`` prints it as it is) or as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visiona_client import state
from visiona_client.models_folder import ModelsFolder
from visiona_client.server_api import ServerApi, ServerError


def status_report(*, state_dir: Path, models_dir: Path) -> dict[str, Any]:
    """What ``status`` shows. ``server_accepts_token``: True, False (visionA refuses it),
    or None (no answer); absent when the machine is not paired."""
    report: dict[str, Any] = {"state_file": str(state.state_path(state_dir)), "paired": False}
    models = ModelsFolder(models_dir)
    report["models_dir"] = str(models.root)
    report["models"] = models.entries()
    try:
        current = state.load(state_dir)
    except state.StateError as exc:
        report["error"] = str(exc)
        return report
    report |= {
        "paired": True,
        "server": current.server,
        "device_id": current.device_id,
        "serial": current.serial,
        "chip": current.chip,
        "paired_at": current.paired_at,
        "token_present": bool(current.token),
        "token_expires_at": current.token_expires_at,
    }
    try:
        me = ServerApi(current.server, token=current.token).me()
    except ServerError as exc:
        report["server_accepts_token"] = False if exc.refused else None
        report["server_error"] = {"status": exc.status, "code": exc.code, "message": exc.message}
    else:
        report["server_accepts_token"] = True
        report["device"] = {
            key: me.get(key) for key in ("name", "connection_status", "last_seen_at")
        }
    return report


def print_status(report: dict[str, Any]) -> None:
    if not report["paired"]:
        print(f"Not paired: {report['error']}")
        return
    print(f"Server:        {report['server']}")
    print(f"Device:        {report['device_id']} ({report['serial']}, {report['chip']})")
    print(f"Paired since:  {report['paired_at']}")
    token = "present" if report["token_present"] else "missing"
    print(f"Device token:  {token}, in {report['state_file']}")
    if report["server_accepts_token"]:
        device = report["device"]
        print(
            f"visionA:       accepts the token; {device['name']} is "
            f"{device['connection_status']} (last seen {device['last_seen_at'] or 'never'})"
        )
    elif report["server_accepts_token"] is False:
        error = report["server_error"]
        print(f"visionA:       refuses the token ({error['code'] or error['status']}): pair again")
    else:
        print(f"visionA:       no answer ({report['server_error']['message']})")
    _print_models(report)


def _print_models(report: dict[str, Any]) -> None:
    if not report["models"]:
        print(f"Models:        none installed in {report['models_dir']}")
        return
    print(f"Models:        in {report['models_dir']}")
    for entry in report["models"]:
        print(
            f"  {entry.get('name')} ({entry.get('file')}, {entry.get('size_bytes')} bytes, "
            f"sha256 {str(entry.get('sha256'))[:12]}…, installed {entry.get('installed_at')})"
        )
