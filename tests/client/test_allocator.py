"""The allocator thresholds the agent and the relay fix for large buffers (glibc only)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Holds four 1 MiB blocks at once, frees them, 200 times over, counting page faults (as
# the tunnel does with its frames in flight): with glibc's defaults, in a thread's
# arena, the freed top of the heap is given back and every round faults it in anew.
FAULTS = textwrap.dedent(
    """
    import importlib, resource, sys, threading
    module = importlib.import_module(sys.argv[1])
    if sys.argv[2] == "tuned":
        assert module.keep_large_blocks()
    def churn():
        for _ in range(200):
            blocks = [b"x" * (1024 * 1024) for _ in range(4)]
            del blocks
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    thread = threading.Thread(target=churn)
    thread.start()
    thread.join()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def _faults(module: str, mode: str, **env: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", FAULTS, module, mode],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "client")]),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_a_large_block_is_reused_not_faulted_in_again():
    module = "visiona_client.allocator"
    untuned, tuned = _faults(module, "default"), _faults(module, "tuned")
    # Untuned: ~1,000 faults a round (200,000); tuned: the first block's only.
    assert untuned > 50_000
    assert tuned < untuned / 10


def test_the_operators_own_setting_wins(monkeypatch):
    import importlib

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert importlib.import_module("visiona_client.allocator").keep_large_blocks() is False


def test_the_visiona_cli_keeps_large_blocks_before_any_command(monkeypatch, capsys):
    from visiona_client import allocator
    from visiona_client.visiona_cli import main as cli_main

    calls = []
    monkeypatch.setattr(allocator, "keep_large_blocks", lambda: calls.append("tuned") or True)
    monkeypatch.setattr(sys, "argv", ["visiona", "--version"])
    with pytest.raises(SystemExit) as exit_info:
        cli_main.entry_point()
    assert exit_info.value.code == 0
    assert calls == ["tuned"]
