"""The README's command-line journey, run as written: its token step's scopes, then
every command of its "Convert from the command line", "Pair a demo device locally",
"Deploy a model to the demo device" and "Run it on the device" blocks, in order, from
the repository's folder with the venv's commands, against a live visionA with the
sandbox and a relay. docs/cli.md's sample block is a part of the same journey.

Only what a reader fills in changes: the server's address (the live server's, not
127.0.0.1:8000) and the pairing code (ABCD-EFGH, made here as the page makes it). The
token goes in VISIONA_TOKEN, as the README's login line allows. Comments are dropped;
`visiona-agent run` keeps running, as the README says, while the rest goes on."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from deployments.models import Deployment
from deployments.run_models import Run
from devices import services as device_services
from devices.models import Device
from models_repo.models import NefModel
from tests.waiting import wait_for
from tokens import services as token_services

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
JOURNEY = (
    "Convert from the command line",
    "Pair a demo device locally",
    "Deploy a model to the demo device",
    "Run it on the device: latency and agreement",
)
CLI_DOC = ROOT / "docs" / "cli.md"
README_SERVER = "http://127.0.0.1:8000"
README_CODE = "ABCD-EFGH"
TIMEOUT = 300  # a whole conversion or deployment, generous for a machine under load


def section(text: str, title: str) -> str:
    start = text.index(f"### {title}\n")
    end = text.find("\n## ", start)
    following = text.find("\n### ", start + 1)
    stops = [index for index in (end, following) if index != -1]
    return text[start : min(stops)] if stops else text[start:]


def block_commands(text: str) -> list[str]:
    """The commands of a piece of Markdown's ```sh blocks: comments dropped, a line
    ending in a backslash joined to the next, as the shell reads them."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                commands.append(" ".join(line.split()))
    return commands


def journey_commands(text: str) -> list[str]:
    return [command for title in JOURNEY for command in block_commands(section(text, title))]


def token_scopes(text: str) -> list[str]:
    sentence = re.search(r"create a token with the (.*?) scopes", section(text, JOURNEY[0]), re.S)
    return re.findall(r"`(\w+)`", sentence.group(1))


def test_the_journey_is_what_the_readme_says():
    text = README.read_text()
    commands = journey_commands(text)
    assert [shlex.split(command)[:2] for command in commands] == [
        ["visiona", "login"],
        ["visiona", "convert"],
        ["visiona-agent", "pair"],
        ["visiona-agent", "run"],
        ["visiona", "deploy"],
        ["visiona", "convert"],
        ["visiona", "run"],
    ]
    assert token_scopes(text) == ["read", "convert", "deploy"]
    for command in commands:  # every file it names is in the repository
        for word in shlex.split(command):
            if word.startswith("static/"):
                assert (ROOT / word).exists(), word


def test_docs_cli_sample_block_is_a_part_of_the_journey():
    """docs/cli.md's "No model at hand?" block: the same commands, run by the test below."""
    sample = block_commands(CLI_DOC.read_text().split("No model at hand?", 1)[1])[:2]
    assert [shlex.split(command)[:2] for command in sample] == [
        ["visiona", "convert"],
        ["visiona", "deploy"],
    ]
    assert set(sample) <= set(journey_commands(README.read_text()))


def test_the_readmes_command_line_journey_runs_as_written(
    live_server, sandbox, relay, fast_heartbeats, alice, tmp_path
):
    text = README.read_text()
    token = token_services.token_create(
        owner=alice, name="readme", scopes=token_scopes(text), expires_in_days=1
    ).secret
    code = device_services.pairing_code_create(user=alice).code
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "VISIONA_TOKEN": token,
        "NO_PROXY": "*",
    }
    agents = []
    try:
        for command in journey_commands(text):
            command = command.replace(README_SERVER, live_server.url).replace(README_CODE, code)
            words = shlex.split(command)
            if words[:2] == ["visiona-agent", "run"]:
                log = (tmp_path / "agent.log").open("w")
                agents.append(subprocess.Popen(words, cwd=ROOT, env=env, stdout=log, stderr=log))
                # It keeps running; the journey goes on once its tunnel is open.
                wait_for(lambda: relay.sessions() or None, timeout=60, interval=0.2)
                continue
            ran = subprocess.run(
                words, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT
            )
            assert ran.returncode == 0, (command, ran.stdout, ran.stderr)
    finally:
        for agent in agents:
            agent.terminate()
            agent.wait(timeout=30)
    model = NefModel.objects.get(owner=alice, name="sample-classifier")
    assert model.chips == ["KL720"]
    device = Device.objects.get(owner=alice)
    assert device.name == "demo-desk"
    assert Deployment.objects.get(model=model, device=device).state == "installed"
    # "Run it on the device": the sample saved as "sample", run twice on demo-desk.
    sample = NefModel.objects.get(owner=alice, name="sample")
    assert Run.objects.filter(model=sample, device=device, state="completed").count() == 2
