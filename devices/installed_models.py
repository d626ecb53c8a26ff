"""The models installed on a device, as its local API lists them (``GET /api/models``),
read through the tunnel for the device page. The agent's demo device answers it
from the agent's models folder; a real local device API is expected to answer the same.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.utils.dateparse import parse_datetime

from devices import relay_client, tunnel
from devices.errors import DeviceOffline
from devices.models import Device
from devices.tunnel_registry import TunnelRegistration
from visiona.errors import AppError

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
    if registration is None:
        return InstalledModels(state="offline")
    try:
        answer = relay_client.relay(
            node_url=registration.node_url,
            device_id=str(device.pk),
            method="GET",
            path=MODELS_PATH,
            headers={"Accept": "application/json"},
            request_id=uuid.uuid4().hex,
            read_timeout=tunnel.PAGE_REPORT_TIMEOUT,  # the same bound as the report
        )
        body = answer.read_json(limit=512 * 1024) if answer.status == 200 else None
    except DeviceOffline:
        return InstalledModels(state="offline")
    except (AppError, relay_client.RelayAnswerInterrupted):
        return InstalledModels(state="unreachable")
    return _from_json(body)


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
