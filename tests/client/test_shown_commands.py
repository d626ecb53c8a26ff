"""The commands visionA shows (pairing page, pairing-code API) are ones the agent takes."""

from __future__ import annotations

import shlex

from visiona_client.agent_cli import build_parser
from visiona_client.local_device import DEFAULT_LOCAL_URL

from devices import agent_commands

SERVER = "https://visiona.example.com/"


def parse(command: str):
    words = shlex.split(command)
    assert words[0] == "visiona-agent"
    return build_parser().parse_args(words[1:])


def test_the_pair_commands_parse():
    args = parse(agent_commands.pair_command(server_url=SERVER, code="ABCD-EFGH"))
    assert (args.command, args.server, args.code, args.demo) == (
        "pair",
        "https://visiona.example.com",
        "ABCD-EFGH",
        False,
    )
    assert parse(agent_commands.pair_command(server_url=SERVER, code="X", demo=True)).demo


def test_the_run_commands_parse_with_the_agents_own_local_url():
    args = parse(agent_commands.run_command(server_url=SERVER))
    assert (args.command, args.local_url, args.demo) == ("run", DEFAULT_LOCAL_URL, False)
    assert parse(agent_commands.run_command(server_url=SERVER, demo=True)).demo
