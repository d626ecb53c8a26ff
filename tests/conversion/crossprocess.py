"""Run one piece of code in several fresh Python processes at once, against the
suite's Redis and key prefix: what separate gunicorn workers or instances would do.

Each child sets Django up with the test settings, prints ``ready``, waits for ``go``
on stdin (so all start together), runs ``code`` and prints its last expression's
value as JSON on its last line.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
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
    # Each child's stderr goes to a file (a pipe nobody reads could fill and block it),
    # and its end is in the error when the child does not do its part.
    with contextlib.ExitStack() as files:
        errors = [files.enter_context(tempfile.TemporaryFile("w+")) for _ in range(processes)]
        return _run(script, env, errors)


def _run(script: str, env: dict, errors: list) -> list:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=error,
            text=True,
        )
        for error in errors
    ]

    def failed(what: str, index: int) -> RuntimeError:
        children[index].wait(timeout=30)
        errors[index].seek(0)
        return RuntimeError(f"{what}; its stderr ended: {errors[index].read()[-2000:]}")

    try:
        for index, child in enumerate(children):
            if child.stdout.readline().strip() != "ready":
                raise failed(f"a child process did not start ({child.poll()})", index)
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for index, child in enumerate(children):
            out, _ = child.communicate(timeout=120)
            if child.returncode != 0:
                raise failed(f"a child process failed ({child.returncode})", index)
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
