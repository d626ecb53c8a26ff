"""The house's import arrows, checked on every module's imports (parsed, never run).

Arrows point down only:

    deployments -> devices, models_repo, visiona    conversion -> models_repo, visiona
    relay -> devices, visiona                       devices -> visiona
    models_repo -> visiona                          tokens -> visiona

``visiona/`` (core) imports no app, except the root URLconf (``visiona/urls.py``);
an app that adds to a core feature registers itself (``visiona/registry.py``), and
one that adds to devices' features likewise (``devices/registry.py``). Settings may
name the ``tokens`` app's classes (DRF's default authentication and permission), as
Django and DRF read them from there; nothing else in core names an app.
Nothing in the product imports ``sandbox`` (the development stand-ins, which may
read the product's description of the converter's limits); the root URLconf only
names its URLs, mounted with ``VISIONA_SANDBOX`` alone. ``client/`` (the agent,
a distribution of its own) imports neither Django nor anything of the project.

Every import counts: at the top, inside a function, under ``TYPE_CHECKING``, and
relative ones (resolved against their package). So does a dotted path in a string
(``"devices.authentication.DeviceTokenAuthentication"`` in a setting or an
extension), which Django and drf-spectacular import for us; historical migrations,
which may name what the models once were, are checked for imports only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each app, and what it may import of the others (its own modules always).
ALLOWED: dict[str, frozenset[str]] = {
    "visiona": frozenset(),
    "models_repo": frozenset({"visiona"}),
    "conversion": frozenset({"models_repo", "visiona"}),
    "devices": frozenset({"visiona"}),
    "deployments": frozenset({"devices", "models_repo", "visiona"}),
    "relay": frozenset({"devices", "visiona"}),
    "tokens": frozenset({"visiona"}),
    "sandbox": frozenset({"conversion", "visiona"}),
}
PROJECT = frozenset({*ALLOWED, "tests", "bench"})
ROOT_URLCONF = "visiona.urls"
# Settings name these apps' classes in strings (REST_FRAMEWORK's defaults), never import them.
SETTINGS = "visiona.settings"
NAMED_BY_SETTINGS = frozenset({"tokens"})
# The agent's folder, and what it may not import: Django (and what runs on it)
# and the project.
CLIENT_DIR = "client"
NOT_FOR_THE_CLIENT = frozenset(
    {"django", "rest_framework", "drf_spectacular", "mozilla_django_oidc", *PROJECT}
)


# A dotted import path as Django settings and extensions spell one.
_DOTTED_PATH = re.compile(r"[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def module_name(root: Path, path: Path) -> str:
    """``conversion/clients/http.py`` -> ``conversion.clients.http``; under client/,
    relative to it (``client/visiona_client/agent_cli.py`` -> ``visiona_client.agent_cli``)."""
    relative = path.relative_to(root)
    if relative.parts[0] == CLIENT_DIR:
        relative = relative.relative_to(CLIENT_DIR)
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str) -> Iterator[tuple[str, int, bool]]:
    """Every module ``path`` imports, absolute, with its line, and whether it is only
    named in a string."""
    is_package = path.name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    strings_count = "migrations" not in path.parts
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if strings_count and _DOTTED_PATH.fullmatch(node.value):
                yield node.value, node.lineno, True
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, False
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, node.lineno, False


def violation(importer: str, imported: str, *, client: bool, named: bool = False) -> str | None:
    """Why ``importer`` may not import ``imported``, or None."""
    top = imported.split(".")[0]
    if client:
        if top in NOT_FOR_THE_CLIENT:
            return "client/ imports no Django and nothing of the project"
        return None
    source = importer.split(".")[0]
    if top not in ALLOWED or top == source:
        return None
    if top == "sandbox":
        if importer == ROOT_URLCONF and named:
            return None  # include("sandbox.urls"), mounted only with VISIONA_SANDBOX
        return "nothing in the product imports sandbox"
    if importer == ROOT_URLCONF:
        return None
    in_settings = importer == SETTINGS or importer.startswith(SETTINGS + ".")
    if in_settings and named and top in NAMED_BY_SETTINGS:
        return None
    if top not in ALLOWED[source]:
        if source == "visiona":
            return "core imports no app (only visiona/urls.py does): let the app register"
        return f"{source} may import only {sorted(ALLOWED[source]) or 'no app'}"
    return None


def forbidden_edges(root: Path) -> list[str]:
    found = []
    folders = [*ALLOWED, CLIENT_DIR]
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            client = folder == CLIENT_DIR
            importer = module_name(root, path)
            for imported, line, named in imported_modules(path, importer):
                reason = violation(importer, imported, client=client, named=named)
                if reason:
                    where = path.relative_to(root)
                    found.append(f"{where}:{line}: {importer} -> {imported}: {reason}")
    return found


def test_the_project_has_no_forbidden_import():
    assert forbidden_edges(ROOT) == []


def test_the_check_reads_every_app_and_the_client():
    """A rule that reads nothing passes for nothing: each folder has modules here."""
    for folder in [*ALLOWED, CLIENT_DIR]:
        assert list((ROOT / folder).rglob("*.py")), folder


# --- The check itself, on a synthetic tree ---------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name in [*ALLOWED, f"{CLIENT_DIR}/visiona_client"]:
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "__init__.py").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


ALLOWED_EDGES = {
    "conversion/services.py": "from models_repo.services import model_restore\n",
    "conversion/api.py": "from visiona.errors import AppError\nfrom . import services\n",
    "models_repo/models.py": "from visiona.chips import Chip\n",
    "models_repo/migrations/0001_initial.py": 'to = "conversion.conversionjob"\n',
    "conversion/models.py": 'to = "models_repo.NefModel"\nlogger = "visiona.upstream"\n',
    "visiona/settings/api.py": 'APPS = ["conversion", "devices"]\nURLS = "visiona.urls"\n'
    'AUTH = ["tokens.authentication.PersonalTokenAuthentication"]\n',
    "devices/tunnel.py": "import visiona.models\nfrom visiona import errors\n",
    "relay/auth.py": "from devices import services\nfrom ..devices import models\n",
    "visiona/urls.py": "from conversion import urls\nfrom devices import urls as d\n"
    'SANDBOX = include("sandbox.urls")\n',
    "visiona/health.py": "from visiona.registry import health_parts\nfrom .errors import X\n",
    "sandbox/uploads.py": "from conversion.limits import MAX_IMAGES\n",
    "deployments/services.py": "from devices import selectors\nfrom models_repo import errors\n"
    "from visiona.errors import AppError\nfrom . import push\n",
    "deployments/api/agent.py": "from devices.api.agent import AgentApiView\n"
    'ENUM = "deployments.choices.DeploymentState"\n',
    "deployments/migrations/0001_initial.py": 'to = "devices.device"\n',
    "devices/registry.py": "from visiona.registry import register_health_part\n",
    "tokens/permissions.py": "from visiona.api.scopes import Scope\nfrom .models import T\n",
    "client/visiona_client/agent_cli.py": "import requests\nfrom . import state\n",
}

FORBIDDEN_EDGES = [
    ("models_repo/models.py", "from conversion.models import ConversionJob\n"),
    ("models_repo/views.py", "def f():\n    from conversion import services\n"),
    ("models_repo/api.py", "from devices.models import Device\n"),
    ("visiona/health.py", "def get():\n    from devices.selectors import summary\n"),
    (
        "visiona/api/schema.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import devices.authentication\n",
    ),
    ("visiona/settings/services.py", "from conversion import limits\n"),
    ("visiona/settings/core.py", 'PROCESSORS = ["conversion.context_processors.banner"]\n'),
    ("visiona/api/schema.py", 'target_class = "devices.authentication.Token"\n'),
    ("visiona/urls.py", "import sandbox.urls\n"),
    ("devices/tunnel.py", "from conversion.models import ConversionJob\n"),
    ("devices/views.py", "from models_repo import selectors\n"),
    ("devices/views.py", "from relay import node\n"),
    ("conversion/api.py", "from devices import services\n"),
    ("conversion/clients/http.py", "from ...devices import errors\n"),
    ("relay/node.py", "from models_repo import models\n"),
    ("relay/node.py", "from conversion import services\n"),
    ("devices/api/views.py", "from sandbox import store\n"),
    ("client/visiona_client/agent_cli.py", "import django\n"),
    ("client/visiona_client/agent.py", "from django.conf import settings\n"),
    ("client/visiona_client/state.py", "from devices.relay_client import HOP_BY_HOP\n"),
    ("client/visiona_client/tunnel.py", "import visiona.errors\n"),
    # devices is below deployments: it reaches it only through devices/registry.py.
    ("devices/services.py", "from deployments import services\n"),
    ("devices/api/agent.py", "def f():\n    from deployments.api.serializers import W\n"),
    ("devices/apps.py", 'ENUM = "deployments.choices.DeploymentState"\n'),
    ("models_repo/views.py", "from deployments import selectors\n"),
    ("visiona/health.py", "from deployments.models import Deployment\n"),
    ("relay/node.py", "from deployments import push\n"),
    ("deployments/services.py", "from conversion import services\n"),
    ("deployments/views.py", "from relay import node\n"),
    ("deployments/api/views.py", "from tokens.permissions import TokenScopeRequired\n"),
    ("deployments/services.py", "from sandbox import store\n"),
    ("client/visiona_client/agent.py", "from deployments.file import byte_range\n"),
    # tokens sits on core alone; and core names it only in settings' strings.
    ("tokens/services.py", "from devices.models import Device\n"),
    ("tokens/api.py", "from ..deployments import services\n"),
    ("tokens/models.py", "from models_repo.models import NefModel\n"),
    ("devices/authentication.py", "from tokens.services import token_check\n"),
    ("visiona/settings/api.py", "from tokens import authentication\n"),
    ("visiona/api/schema.py", 'AUTH = "tokens.authentication.PersonalTokenAuthentication"\n'),
]


def test_allowed_edges_pass(tmp_path):
    assert forbidden_edges(_tree(tmp_path, ALLOWED_EDGES)) == []


@pytest.mark.parametrize(("name", "text"), FORBIDDEN_EDGES)
def test_an_injected_forbidden_edge_fails(tmp_path, name, text):
    found = forbidden_edges(_tree(tmp_path, {**ALLOWED_EDGES, name: text}))
    assert len(found) == 1
    assert found[0].startswith(f"{name}:")
