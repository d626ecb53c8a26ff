"""Run one piece of code in several fresh Python processes at once, against the
suite's Redis and key prefix: what separate gunicorn workers or instances would do.

Each child sets Django up with the test settings, prints ``ready``, waits for ``go``
on stdin (so all start together), runs ``code`` and prints its last expression's
value as JSON on its last line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = """
import json, os, sys, time
import django
django.setup()
from django.conf import settings
for name, value in json.loads(os.environ["CHILD_SETTINGS"]).items():
    setattr(settings, name, value)
print("ready", flush=True)
sys.stdin.readline()
"""


def run_in_processes(code: str, *, processes: int, overrides: dict | None = None) -> list:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "VISIONA_TEST_CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "CHILD_SETTINGS": json.dumps(overrides or {}),
    }
    body = textwrap.dedent(code).strip().splitlines()
    *statements, last = body
    script = _PRELUDE + "\n".join(statements) + f"\nprint(json.dumps({last}), flush=True)\n"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("a child process did not start")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, _ = child.communicate(timeout=120)
            if child.returncode != 0:
                raise RuntimeError(f"a child process failed ({child.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
