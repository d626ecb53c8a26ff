"""The reference agent pairs with a code and turns the device online, over real HTTP."""

import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from devices import services
from devices.models import Device

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_it_pairs_and_turns_the_device_online(live_server, alice):
    issued = services.pairing_code_create(user=alice)
    out = StringIO()
    call_command(
        "run_agent",
        server=live_server.url,
        code=issued.code,
        serial="AGENT-0001",
        chip="KL730",
        count=1,
        interval=0,
        stdout=out,
    )
    device = Device.objects.get()
    assert (device.owner, device.serial, device.chip) == (alice, "AGENT-0001", "KL730")
    assert device.is_online
    assert device.agent_status == "ready"
    output = out.getvalue()
    assert f"Paired: device {device.pk}" in output
    assert "vad_" not in output


def test_it_keeps_the_token_in_a_private_file_and_resumes(live_server, alice, tmp_path):
    token_file = tmp_path / "token"
    issued = services.pairing_code_create(user=alice)
    call_command(
        "run_agent",
        server=live_server.url,
        code=issued.code,
        serial="AGENT-0002",
        count=1,
        interval=0,
        token_file=token_file,
        stdout=StringIO(),
    )
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().startswith("vad_")
    Device.objects.update(last_seen_at=None)
    call_command(
        "run_agent",
        server=live_server.url,
        token_file=token_file,
        count=2,
        interval=0,
        stdout=StringIO(),
    )
    assert Device.objects.get().is_online


def test_a_wrong_code_stops_it_with_the_reason(live_server, alice):
    with pytest.raises(CommandError, match="pairing_code_invalid"):
        call_command(
            "run_agent",
            server=live_server.url,
            code="ZZZZ-ZZZZ",
            serial="X",
            count=1,
            stdout=StringIO(),
        )


def test_an_unpaired_device_stops_it(live_server, alice, tmp_path):
    issued = services.pairing_code_create(user=alice)
    result = services.device_pair(code=issued.code, serial="AGENT-3", chip="KL520")
    services.device_unpair(device=result.device)
    token_file = tmp_path / "token"
    token_file.write_text(result.token)
    with pytest.raises(CommandError, match="refused the device token"):
        call_command(
            "run_agent",
            server=live_server.url,
            token_file=token_file,
            count=1,
            stdout=StringIO(),
        )


def test_it_waits_between_heartbeats_without_real_sleep(live_server, alice, monkeypatch):
    from devices.management.commands import run_agent

    pauses = []
    monkeypatch.setattr(run_agent.Command, "sleep", staticmethod(pauses.append))
    issued = services.pairing_code_create(user=alice)
    call_command(
        "run_agent",
        server=live_server.url,
        code=issued.code,
        serial="AGENT-4",
        count=3,
        interval=5,
        stdout=StringIO(),
    )
    assert pauses == [5, 5]
