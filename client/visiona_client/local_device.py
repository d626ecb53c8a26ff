"""The local device API on this machine (the local edge-AI server, or the demo).

The agent reads from it which dongle is attached (``GET /api/system/deps``), so
``pair`` needs no serial number from the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

# Where the local device API listens unless --local-url says otherwise.
DEFAULT_LOCAL_URL = "http://127.0.0.1:8765"
LOCAL_TIMEOUT_SECONDS = 5.0


class LocalDeviceError(Exception):
    """The local device API is unreachable, or does not name exactly one dongle."""


@dataclass(frozen=True)
class Dongle:
    chip: str
    serial: str


def fetch_deps(local_url: str, *, timeout: float = LOCAL_TIMEOUT_SECONDS) -> dict[str, Any]:
    url = local_url.rstrip("/") + "/api/system/deps"
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        payload = response.json()
    except requests.RequestException as exc:
        raise LocalDeviceError(
            f"cannot read {url} ({exc.__class__.__name__}): is the local device API running?"
        ) from None
    except ValueError:
        raise LocalDeviceError(f"{url} did not answer JSON") from None
    if not isinstance(payload, dict):
        raise LocalDeviceError(f"{url} did not answer a JSON object")
    return payload


def dongles(deps: dict[str, Any]) -> list[Dongle]:
    found = []
    for item in deps.get("dongles") or []:
        if isinstance(item, dict) and item.get("serial") and item.get("chip"):
            found.append(Dongle(chip=str(item["chip"]), serial=str(item["serial"])))
    return found


def pick_dongle(found: list[Dongle], *, serial: str | None, chip: str | None) -> Dongle:
    """The one dongle to pair as: the only one attached, or the one ``serial`` names."""
    if serial and chip:
        return Dongle(chip=chip, serial=serial)
    candidates = [d for d in found if not serial or d.serial == serial]
    if chip:
        candidates = [d for d in candidates if d.chip.upper() == chip.upper()]
    if len(candidates) == 1:
        return candidates[0]
    if not found:
        raise LocalDeviceError("the local device API reports no attached dongle")
    listing = ", ".join(f"{d.serial} ({d.chip})" for d in found)
    if not candidates:
        raise LocalDeviceError(f"no attached dongle matches; attached: {listing}")
    raise LocalDeviceError(f"several dongles are attached ({listing}); pick one with --serial")
