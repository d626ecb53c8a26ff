"""A model or a device named on the command line: by id, or by its exact name."""

from __future__ import annotations

import uuid
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError


def model_by_id_or_name(api: Api, ref: str) -> dict[str, Any]:
    if ref.isdigit():
        return api.get_json(f"/api/models/{int(ref)}")
    page = api.get_json("/api/models/", params={"search": ref, "page_size": 100})
    matches: list[dict[str, Any]] = [m for m in page["results"] if m["name"] == ref]
    if not matches:
        raise CliError(
            f"No model named {ref!r}.", exit_code=exit_codes.BAD_INPUT, code="model_not_found"
        )
    return matches[0]  # names are unique among a user's live models


def device_by_id_or_name(api: Api, ref: str) -> dict[str, Any]:
    devices: list[dict[str, Any]] = api.get_json("/api/devices/")["devices"]
    try:
        wanted = str(uuid.UUID(ref))
    except ValueError:
        wanted = None
    if wanted:
        matches = [d for d in devices if d["id"] == wanted]
    else:
        matches = [d for d in devices if d["name"].casefold() == ref.casefold()]
    if not matches:
        raise CliError(
            f"No device {ref!r}.", exit_code=exit_codes.BAD_INPUT, code="device_not_found"
        )
    if len(matches) > 1:
        raise CliError(
            f"{len(matches)} devices are named {ref!r}: give its id (visiona devices).",
            exit_code=exit_codes.BAD_INPUT,
            code="device_ambiguous",
        )
    return matches[0]
