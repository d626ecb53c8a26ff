"""The agent's package (``client/``), built into a wheel that visionA serves itself.

``python manage.py build_client`` builds it offline with pip and the setuptools
already installed (no download), into ``settings.CLIENT_DOWNLOADS_DIR``; the
``/downloads/`` views serve whatever wheel is there. ``make run`` and the
Dockerfile build it, so the pairing page's ``pip install`` command works.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings

CLIENT_SOURCE_DIR = Path(settings.BASE_DIR) / "client"
WHEEL_GLOB = "visiona_client-*-py3-none-any.whl"
BUILD_TIMEOUT_SECONDS = 120


class ClientBuildError(Exception):
    """pip could not build the wheel; the message ends with pip's own words."""


def downloads_dir() -> Path:
    return Path(settings.CLIENT_DOWNLOADS_DIR)


def current_wheel() -> Path | None:
    """The wheel visionA serves, or None when it has not been built."""
    wheels = sorted(downloads_dir().glob(WHEEL_GLOB))
    return wheels[-1] if wheels else None


def wheel_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def build_wheel(source: Path = CLIENT_SOURCE_DIR) -> Path:
    """Build the wheel and put it in place of any older one; returns its path."""
    target = downloads_dir()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="visiona-client-build-") as scratch:
        # Built from a copy: pip builds in the source tree, and its build/ and
        # egg-info/ folders do not belong in the checkout (or a read-only image).
        tree = Path(scratch) / "src"
        shutil.copytree(
            source, tree, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
        )
        out = Path(scratch) / "dist"
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        command += ["--no-build-isolation", "--no-index", "--wheel-dir", str(out), str(tree)]
        environment = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        try:
            result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
                command,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_SECONDS,
                env=environment,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ClientBuildError("pip took too long to build the agent's wheel") from None
        built = sorted(out.glob(WHEEL_GLOB))
        if result.returncode != 0 or len(built) != 1:
            last_words = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise ClientBuildError("pip could not build the wheel: " + " / ".join(last_words))
        final = target / built[0].name
        # Same folder, then a rename: a download never sees half a file.
        staged = target / f".{built[0].name}.tmp"
        shutil.copyfile(built[0], staged)
        staged.replace(final)
    for old in target.glob(WHEEL_GLOB):
        if old != final:
            old.unlink(missing_ok=True)
    return final
