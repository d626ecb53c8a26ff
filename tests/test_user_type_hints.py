"""Every service and selector states what its ``user`` (or ``owner``) is, and every
public function there states the types of all its arguments and its return: they are
the apps' interfaces (mypy then checks their callers)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("conversion", "models_repo", "devices", "deployments", "tokens", "visiona", "relay")
# Other modules whose functions the apps call as services.
ALSO = ("devices/tunnel.py", "conversion/upload_lease.py")


def _is_interface(path: Path) -> bool:
    """``*services.py``, ``*selectors.py``, or any module of a ``services/`` or
    ``selectors/`` package: every app's writes and reads, however it splits them."""
    parts = path.relative_to(ROOT).parts
    return (
        path.name.endswith(("services.py", "selectors.py"))
        or any(part in ("services", "selectors") for part in parts[:-1])
    ) and "migrations" not in parts


MODULES = sorted(
    {path for app in APPS for path in (ROOT / app).rglob("*.py") if _is_interface(path)}
    | {ROOT / name for name in ALSO}
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
    assert {
        "conversion/services.py",
        "conversion/tracking_services.py",
        "conversion/saving_services.py",
        "models_repo/selectors.py",
        "devices/services.py",
        "deployments/services.py",
        "deployments/selectors.py",
        "tokens/services.py",
        "deployments/rollback_services.py",
        "deployments/rollout_selectors.py",
        "deployments/run_services.py",
        "deployments/group_selectors.py",
        "devices/tunnel.py",
    } <= names
    assert all((ROOT / name).exists() for name in ALSO)


def test_every_user_argument_is_typed():
    assert [entry for path in MODULES for entry in unannotated(path)] == []


def untyped_public_functions(path: Path) -> list[str]:
    """Module-level public functions with an argument or a return left untyped."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name.startswith("_"):
            continue
        arguments = node.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        missing = [a.arg for a in every if a.annotation is None]
        if node.returns is None:
            missing.append("return")
        if missing:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {missing}")
    return found


def test_every_public_service_and_selector_is_typed():
    assert [entry for path in MODULES for entry in untyped_public_functions(path)] == []
