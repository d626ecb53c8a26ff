"""The models installed on a device, as its local API lists them (``GET /api/models``),
read through the tunnel for the device page. The agent's demo device answers it
from the agent's models folder; a real local device API is expected to answer the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.dateparse import parse_datetime

from devices import tunnel
from devices.models import Device
from devices.tunnel_registry import TunnelRegistration

MODELS_PATH = "api/models"
MAX_MODELS = 100


@dataclass(frozen=True)
class InstalledModels:
    """``state``: "ok", "offline", "unreachable" (no good answer in time) or "unknown"
    (an answer in a shape this page does not know)."""

    state: str
    demo: bool = False
    models: list[dict] = field(default_factory=list)


def installed_models(*, device: Device, registration: TunnelRegistration | None) -> InstalledModels:
    answer = tunnel.read_device_json(
        device=device, registration=registration, path=MODELS_PATH, limit=512 * 1024
    )
    if answer.state != "ok":
        return InstalledModels(state=answer.state)
    return _from_json(answer.body)


def _from_json(body: object) -> InstalledModels:
    if not isinstance(body, dict) or not isinstance(body.get("models"), list):
        return InstalledModels(state="unknown")
    models = [_entry(item) for item in body["models"][:MAX_MODELS] if isinstance(item, dict)]
    return InstalledModels(state="ok", demo=body.get("demo") is True, models=models)


def _entry(item: dict) -> dict:
    size = item.get("size_bytes")
    installed_at = item.get("installed_at")
    return {
        "name": _text(item.get("name")),
        "sha256": _text(item.get("sha256"))[:64],
        "size_bytes": size if isinstance(size, int) and not isinstance(size, bool) else None,
        "installed_at": _moment(installed_at),
    }


def _moment(value: object):
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: object) -> str:
    return str(value)[:200] if value is not None else ""
