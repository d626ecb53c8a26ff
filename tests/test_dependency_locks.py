"""Every install takes its packages from the hashed locks, and `make` installs only
when a lock changed (a stamp in the venv). See docs/dependencies.md."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: str) -> dict[str, str]:
    """name -> version of every package a lock pins, checking each has hashes."""
    text = (ROOT / path).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    pins = {}
    for entry in entries:
        match = PIN.match(entry)
        if match is None:
            continue
        assert "--hash=sha256:" in entry, f"{path}: {match.group(1)} has no hash"
        pins[_name(match.group(1))] = match.group(2)
    return pins


def chosen(path: str) -> dict[str, str]:
    text = (ROOT / path).read_text()
    return {_name(name): version for name, version in PIN.findall(text)}


def test_the_runtime_lock_pins_and_hashes_every_transitive_package():
    lock = locked("requirements.txt")
    assert len(lock) >= 28  # the chosen ones and everything they bring
    for name, version in chosen("requirements.in").items():
        assert lock.get(name) == version, f"requirements.in pins {name}=={version}"
    assert {"asgiref", "sqlparse", "botocore", "urllib3"} <= set(lock)  # transitive ones


def test_the_dev_lock_agrees_with_the_runtime_lock():
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    for name, version in chosen("requirements-dev.in").items():
        assert dev.get(name) == version, f"requirements-dev.in pins {name}=={version}"
    shared = set(runtime) & set(dev)
    assert shared and all(runtime[name] == dev[name] for name in shared)


def test_no_lock_holds_what_no_hash_can_pin():
    for path in ("requirements.txt", "requirements-dev.txt"):
        text = (ROOT / path).read_text()
        assert not re.search(r"^\s*(-e|--editable|\./|file:|git\+)", text, re.M), path


def test_every_install_uses_the_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.txt\n" in makefile
    assert "--require-hashes -r requirements.txt -r requirements-dev.txt" in makefile
    assert "--no-deps -e ./client" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "RUN pip install --require-hashes -r requirements.txt" in dockerfile
    # The locks, then the client distribution (the server imports its pre-flight): a
    # local folder no hash pins, so without its dependencies (they are in the lock).
    assert re.findall(r"pip install[^\n]*", dockerfile) == [
        "pip install --require-hashes -r requirements.txt",
        "pip install --no-deps ./client",
    ]
    # CI runs the same make targets.
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make lint" in ci and "make test" in ci and "pip install" not in ci


def test_the_client_installed_without_deps_finds_its_dependencies_in_the_lock():
    dependencies = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    lock = locked("requirements.txt")
    assert len(dependencies) >= 4
    for line in dependencies:
        requirement = Requirement(line)
        version = lock.get(_name(requirement.name))
        assert version is not None, f"{requirement.name} (the client's) is not in the lock"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version}: {line}"


# --- make installs only when a lock changed ---------------------------------------

needs_make = pytest.mark.skipif(not shutil.which("make"), reason="needs make")


def _up_to_date(target: str, venv: Path) -> bool:
    """`make -q`: 0 when nothing would run."""
    result = subprocess.run(
        ["make", "-q", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, check=False
    )
    return result.returncode == 0


@pytest.fixture
def venv(tmp_path) -> Path:
    folder = tmp_path / "venv"
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").write_text("")  # make only asks that it exists
    return folder


@needs_make
@pytest.mark.parametrize(
    ("target", "stamp", "inputs"),
    [
        ("install", ".installed-runtime", ["requirements.txt", "client/pyproject.toml"]),
        (
            "install-dev",
            ".installed-dev",
            ["requirements.txt", "requirements-dev.txt", "client/pyproject.toml"],
        ),
    ],
)
def test_make_installs_only_when_a_lock_changed(venv, target, stamp, inputs):
    assert not _up_to_date(target, venv)  # a new venv: install
    newest = max((ROOT / name).stat().st_mtime for name in inputs)
    (venv / stamp).write_text("")
    os.utime(venv / stamp, (newest + 10, newest + 10))
    assert _up_to_date(target, venv)  # installed since the locks last changed: nothing
    for name in inputs:
        changed = (ROOT / name).stat().st_mtime
        os.utime(venv / stamp, (changed - 10, changed - 10))
        assert not _up_to_date(target, venv), f"{name} changed: install again"
        os.utime(venv / stamp, (newest + 10, newest + 10))


@needs_make
def test_run_and_test_go_through_the_stamps(venv):
    dry_run = subprocess.run(
        ["make", "-n", "run", "test", f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"touch {venv}/.installed-runtime" in dry_run
    assert f"touch {venv}/.installed-dev" in dry_run
