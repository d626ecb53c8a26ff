"""``visiona groups rollback GROUP`` names each device by its name (visionA's answer
gives its id only), falling back to the id for a device without one (answers from
``responses``)."""

from __future__ import annotations

import json

import responses
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

GROUP = {"id": "6a1b2c3d-0000-4000-8000-000000000001", "name": "Rack A"}
SENT = "6a1b2c3d-0000-4000-8000-0000000000d1"
SKIPPED = "6a1b2c3d-0000-4000-8000-0000000000d2"
NAMELESS = "6a1b2c3d-0000-4000-8000-0000000000d3"


def test_the_devices_are_named(monkeypatch, tmp_path, capsys):
    point_cli_at(monkeypatch, tmp_path)
    deployment = {"id": "d", "model": {"name": "v1"}, "device": {"id": SENT, "name": "bench"}}
    results = [
        {"device_id": SENT, "outcome": "sent", "code": "", "message": "", "deployment": deployment},
        {
            "device_id": SKIPPED,
            "outcome": "skipped",
            "code": "nothing_to_roll_back",
            "message": "This device had no model before.",
            "deployment": None,
        },
        {
            "device_id": NAMELESS,
            "outcome": "skipped",
            "code": "nothing_to_roll_back",
            "message": "This device had no model before.",
            "deployment": None,
        },
    ]
    members = [{"id": SENT, "name": "bench"}, {"id": SKIPPED, "name": "shelf"}]
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/api/groups", json={"groups": [GROUP]})
        mock.get(f"{SERVER}/api/groups/{GROUP['id']}", json={**GROUP, "devices": members})
        mock.post(f"{SERVER}/api/groups/{GROUP['id']}/rollback", json={"results": results})
        assert cli_main.main(["groups", "rollback", "Rack A"]) == exit_codes.OK
        err = capsys.readouterr().err.splitlines()
        assert err == [
            "bench: rolling back to v1",
            "shelf: skipped: This device had no model before.",
            f"{NAMELESS}: skipped: This device had no model before.",
        ]
        assert cli_main.main(["groups", "rollback", "Rack A", "--json"]) == exit_codes.OK
    names = [r["device_name"] for r in json.loads(capsys.readouterr().out)["results"]]
    assert names == ["bench", "shelf", NAMELESS]
