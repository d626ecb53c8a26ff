"""Every service and selector states what its ``user`` (or ``owner``) is."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    path
    for app in ("conversion", "models_repo", "devices", "deployments")
    for name in ("services.py", "selectors.py", "tunnel.py", "upload_lease.py")
    if (path := ROOT / app / name).exists()
)


def unannotated(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                if argument.arg in {"user", "owner"} and argument.annotation is None:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    return found


def test_the_check_reads_the_services_and_selectors():
    names = {path.relative_to(ROOT).as_posix() for path in MODULES}
    assert {"conversion/services.py", "models_repo/selectors.py", "devices/services.py"} <= names


def test_every_user_argument_is_typed():
    assert [entry for path in MODULES for entry in unannotated(path)] == []
