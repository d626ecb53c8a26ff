"""The agent against a live visionA: pair, run, status, stop on a refused token.

visionA runs in the live server; the agent in its own process, as on a device.
"""

from __future__ import annotations

import json
import stat

import pytest

from devices import services
from devices.models import Device, DeviceToken, PairingCode
from tests.waiting import wait_for

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fast_heartbeats(settings):
    # The agent beats at a third of the online threshold: here every second.
    settings.DEVICE_ONLINE_THRESHOLD_SECONDS = 3


@pytest.fixture
def paired(live_server, alice, agent, state_dir):
    """A demo agent paired with Alice's code, through the command the page shows."""
    issued = services.pairing_code_create(user=alice)
    result = agent("pair", "--server", live_server.url, "--code", issued.code, "--demo")
    assert result.returncode == 0, result.stderr
    return result


def test_pair_reads_the_dongle_from_the_demo_and_keeps_the_token_private(
    paired, alice, state_dir, live_server
):
    device = Device.objects.get()
    assert device.owner == alice
    assert device.chip == "KL720"
    assert device.serial.startswith("DEMO-KL720-")
    assert f"as device {device.pk}" in paired.stdout
    # The command to keep it online names the pairing's own folder.
    assert paired.stdout.rstrip().endswith(
        f"visiona-agent run --server {live_server.url} --demo --state-dir {state_dir}"
    )
    state_file = state_dir / "state.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    saved = json.loads(state_file.read_text())
    assert saved["device_id"] == str(device.pk)
    assert services.device_token_authenticate(token=saved["token"]).device == device


def test_pair_reads_the_dongle_from_the_local_api(live_server, alice, agent):
    from visiona_client.demo_device import DemoDevice

    issued = services.pairing_code_create(user=alice)
    with DemoDevice() as local:
        result = agent(
            "pair", "--server", live_server.url, "--code", issued.code, "--local-url", local.url
        )
    assert result.returncode == 0, result.stderr
    assert Device.objects.get().serial.startswith("DEMO-KL720-")


def test_pair_without_a_local_api_asks_for_serial_and_chip(live_server, alice, agent):
    issued = services.pairing_code_create(user=alice)
    result = agent(
        "pair",
        "--server",
        live_server.url,
        "--code",
        issued.code,
        "--local-url",
        "http://127.0.0.1:9",
    )
    assert result.returncode == 1
    assert "Give --serial and --chip" in result.stderr
    assert not Device.objects.exists()
    explicit = agent(
        "pair",
        "--server",
        live_server.url,
        "--code",
        issued.code,
        "--serial",
        "SN-9",
        "--chip",
        "KL630",
    )
    assert explicit.returncode == 0, explicit.stderr
    assert Device.objects.get().chip == "KL630"


def test_a_wrong_code_says_why(live_server, alice, agent, state_dir):
    result = agent("pair", "--server", live_server.url, "--code", "ZZZZ-ZZZZ", "--demo")
    assert result.returncode == 1
    assert "pairing_code_invalid" in result.stderr
    assert not (state_dir / "state.json").exists()


def test_pairing_again_over_a_working_pairing_needs_force(paired, live_server, alice, agent):
    issued = services.pairing_code_create(user=alice)
    result = agent("pair", "--server", live_server.url, "--code", issued.code, "--demo")
    assert result.returncode == 1
    assert "--force" in result.stderr
    # Refused before the exchange: the code is not spent.
    assert PairingCode.objects.get(pk=issued.pairing_code.pk).used_at is None
    services.device_unpair(device=Device.objects.get())
    again = agent("pair", "--server", live_server.url, "--code", issued.code, "--demo")
    assert again.returncode == 0, again.stderr


def test_run_heartbeats_and_without_its_tunnel_reads_offline(
    paired, live_server, start_agent, fast_heartbeats
):
    process = start_agent("run", "--server", live_server.url, "--demo")
    wait_for(lambda: Device.objects.get().last_seen_at is not None)
    device = Device.objects.get()
    # No relay runs here: its heartbeats arrive, but online is the tunnel's.
    assert device.heartbeat_is_recent()
    assert device.connection_status() == "offline"
    assert device.agent_status == "ready"
    assert device.agent_version.startswith("visiona-agent/")
    assert process.poll() is None


def test_a_revoked_token_stops_run_with_a_clear_message(
    paired, live_server, start_agent, fast_heartbeats
):
    process = start_agent("run", "--server", live_server.url, "--demo")
    wait_for(lambda: Device.objects.get().last_seen_at is not None)
    services.device_token_revoke(device_token=DeviceToken.objects.get())
    # Its next heartbeat answers the revocation: without a tunnel that is a few seconds
    # away, longer on a loaded machine; what matters is the exit and its message.
    returncode = wait_for(lambda: process.poll(), timeout=60)
    _, stderr = process.communicate(timeout=5)
    assert returncode == 3
    assert "visionA refused this device's token" in stderr
    assert "device_token_invalid" in stderr


def test_an_unpaired_device_stops_run_at_once(paired, live_server, agent, fast_heartbeats):
    services.device_unpair(device=Device.objects.get())
    result = agent("run", "--server", live_server.url, "--demo")
    assert result.returncode == 3
    assert "pair again" in result.stderr


def test_run_refuses_another_server(paired, agent):
    result = agent("run", "--server", "https://other.example", "--demo")
    assert result.returncode == 1
    assert "not https://other.example" in result.stderr


def test_run_without_a_pairing_says_how_to_pair(live_server, agent):
    result = agent("run", "--server", live_server.url, "--demo")
    assert result.returncode == 3
    assert "visiona-agent pair" in result.stderr


def test_ctrl_c_exits_cleanly(paired, live_server, start_agent, fast_heartbeats):
    import signal

    process = start_agent("run", "--server", live_server.url, "--demo")
    wait_for(lambda: Device.objects.get().last_seen_at is not None)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert "stopped" in stderr


def test_status_shows_the_pairing_and_whether_visiona_accepts_it(paired, agent):
    device = Device.objects.get()
    result = agent("status")
    assert result.returncode == 0, result.stderr
    assert str(device.pk) in result.stdout
    assert "accepts the token" in result.stdout
    report = json.loads(agent("status", "--json").stdout)
    assert report["device_id"] == str(device.pk)
    assert report["token_present"] is True
    assert report["server_accepts_token"] is True
    assert "token" not in report

    services.device_token_revoke(device_token=DeviceToken.objects.get())
    refused = agent("status", "--json")
    assert refused.returncode == 3
    assert json.loads(refused.stdout)["server_accepts_token"] is False


def test_status_without_a_pairing(agent):
    result = agent("status")
    assert result.returncode == 3
    assert "Not paired" in result.stdout


def test_the_token_never_appears_in_output_or_logs(
    live_server, alice, agent, start_agent, state_dir, fast_heartbeats
):
    issued = services.pairing_code_create(user=alice)
    pair = agent("-v", "pair", "--server", live_server.url, "--code", issued.code, "--demo")
    assert pair.returncode == 0, pair.stderr
    token = json.loads((state_dir / "state.json").read_text())["token"]
    process = start_agent("-v", "run", "--server", live_server.url, "--demo")
    wait_for(lambda: Device.objects.get().last_seen_at is not None)
    process.terminate()
    run_out, run_err = process.communicate(timeout=10)
    status = agent("-v", "status")
    status_json = agent("status", "--json")
    outputs = [pair.stdout, pair.stderr, run_out, run_err, status.stdout, status.stderr]
    outputs += [status_json.stdout, status_json.stderr]
    assert "heartbeat" in run_err  # the verbose log did say things
    for output in outputs:
        assert token not in output
        assert token[4:] not in output


def test_a_second_demo_agent_is_told_how_to_pair(paired, live_server, alice, agent, tmp_path):
    second = tmp_path / "second-agent"

    def pair(*extra: str):
        issued = services.pairing_code_create(user=alice)
        return agent(
            "pair", "--server", live_server.url, "--code", issued.code, "--demo", *extra,
            state=second,
        )  # fmt: skip

    taken = pair()
    assert taken.returncode == 1
    assert "serial_already_paired" in taken.stderr
    hinted = taken.stderr.split("--serial ", 1)[1].split()[0]
    # --serial alone: the message asks for what is missing, not for what was given.
    serial_only = pair("--serial", hinted)
    assert serial_only.returncode == 1
    assert "give its chip too" in serial_only.stderr
    assert "Give --serial and --chip" not in serial_only.stderr
    assert pair("--serial", hinted, "--chip", "KL720").returncode == 0
    assert Device.objects.filter(owner=alice).count() == 2
