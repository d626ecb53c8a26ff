"""``visiona devices`` shows each device's pin, as rollouts see it: its own (with the
reason), or a pinned group's; nothing for a server that does not say (answers from
``responses``)."""

from __future__ import annotations

import json

import responses
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at


def device(name: str, **pin) -> dict:
    return {
        "id": f"6a1b2c3d-0000-4000-8000-{name:0>12}",
        "name": name,
        "chip": "KL720",
        "connection_status": "online",
        "last_seen_at": None,
        **pin,
    }


DEVICES = [
    device("trial", pinned=True, pin_reason="field trial", pinned_with_group=None),
    device("kept", pinned=True, pin_reason="", pinned_with_group=None),
    device("racked", pinned=False, pin_reason="frozen", pinned_with_group="Rack A"),
    device("free", pinned=False, pin_reason="", pinned_with_group=None),
    device("older"),  # a server from before the pin was in the list
]


def test_the_pin_column_and_the_json(monkeypatch, tmp_path, capsys):
    point_cli_at(monkeypatch, tmp_path)
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/api/devices/", json={"devices": DEVICES})
        assert cli_main.main(["devices"]) == exit_codes.OK
        header, *rows = capsys.readouterr().out.splitlines()
        column = header.index("PINNED")
        assert [row[column:] for row in rows] == [
            "field trial",
            "pinned",
            "with group Rack A: frozen",
            "",
            "",
        ]
        assert cli_main.main(["devices", "--json"]) == exit_codes.OK
    listed = json.loads(capsys.readouterr().out)["devices"]
    assert [d.get("pinned") for d in listed] == [True, True, False, False, None]
