"""JSON from outside is read strictly, as a 400 in the envelope, never a 500.

A lone surrogate (``\\ud800``) cannot be stored, logged or answered; NaN, Infinity
(or ``1e999``, which Python reads as infinity) is not JSON and PostgreSQL's ``jsonb``
refuses it; a NUL cannot go into PostgreSQL's text; JSON nested past Python's
recursion limit raises RecursionError. The API's parser refuses all of them for every
body it reads, and a body a view reads itself goes through ``parsers.loads``, never a
bare ``json.loads`` (checked on every product module's source).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from deployments.models import RunInput
from tests.deployments.conftest import (  # noqa: F401  (fixtures)
    agent_client,
    alice_device,
    issue_code,
    pair,
)
from tests.deployments.run_support import IMAGES, installed_model
from visiona.api import parsers

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("visiona", "devices", "deployments", "conversion", "models_repo", "tokens", "relay")
# Where a bare json.loads is right: the strict reader itself, and JSON the project
# wrote itself (never from a request or a device).
BARE_LOADS_ALLOWED = {
    "visiona/api/parsers.py": "the strict reader",
    "devices/tunnel_registry/redis_store.py": "the relay nodes' own leases in Redis",
}

pytestmark = pytest.mark.django_db

NOT_STRICT = [
    pytest.param(b'{"error": {"code": "\\ud800", "message": "m"}}', id="surrogate-code"),
    pytest.param(b'{"error": {"code": "x", "message": "a\\udfffb"}}', id="surrogate-message"),
    pytest.param(b'{"error": {"code": "x", "\\udc00": 1}}', id="surrogate-key"),
    pytest.param(b'{"error": {"code": NaN, "message": "m"}}', id="nan"),
    pytest.param(b'{"error": {"code": "x", "message": Infinity}}', id="infinity"),
    pytest.param(b'{"error": {"code": -Infinity}}', id="minus-infinity"),
    pytest.param(b'{"error": {"code": 1e999}}', id="overflow"),
    pytest.param(b'{"error": {"code": "a\\u0000b"}}', id="nul-code"),
    pytest.param(b'{"error": {"code": "x", "message": "\\u0000"}}', id="nul-message"),
    pytest.param(b"[" * 50_000 + b"]" * 50_000, id="nested-too-deeply"),
    pytest.param(b'{"error": "x"}', id="not-an-object"),
    pytest.param(b"\xff\xfe", id="not-utf8"),
]


@pytest.fixture
def run_and_agent(alice, alice_device, agent_client, client):  # noqa: F811
    model, _, _ = installed_model(alice, alice_device.device)
    client.force_login(alice)
    answer = client.post(
        "/api/runs",
        {
            "model_id": model.pk,
            "device_id": str(alice_device.device.pk),
            "inputs": [SimpleUploadedFile("a.png", IMAGES[0], "image/png")],
        },
    )
    assert answer.status_code == 201, answer.content
    return answer.json()["id"], agent_client(alice_device.token)


@pytest.mark.parametrize("body", NOT_STRICT)
def test_an_agents_error_report_that_is_not_strict_json_is_400(run_and_agent, body):
    run_id, agent = run_and_agent
    answer = agent.generic(
        "POST",
        f"/api/agent/runs/{run_id}/inputs/0/result",
        body,
        content_type="application/json",
    )
    assert answer.status_code == 400, answer.content[:300]
    assert answer.json()["error"]["code"] == "validation_failed"
    assert RunInput.objects.get(run_id=run_id, index=0).state == "pending"


def test_a_strict_error_report_is_still_recorded(run_and_agent):
    run_id, agent = run_and_agent
    answer = agent.generic(
        "POST",
        f"/api/agent/runs/{run_id}/inputs/0/result",
        '{"error": {"code": "invalid_input", "message": "caf\\u00e9 \\ud83d\\ude00"}}',
        content_type="application/json",
    )
    assert answer.json() == {"index": 0, "state": "failed"}
    item = RunInput.objects.get(run_id=run_id, index=0)
    assert (item.error_code, item.error_message) == ("invalid_input", "caf\u00e9 \U0001f600")


@pytest.mark.parametrize(
    "body",
    [
        b'{"state": "failed", "error_code": "x", "error_message": NaN}',
        b'{"state": "failed", "error_code": "x", "extra": Infinity}',
        b'{"state": "failed", "extra": [-Infinity]}',
        b'{"state": "failed", "extra": {"n": 1e999}}',
    ],
)
def test_an_agents_state_report_with_a_number_that_is_not_finite_is_400(run_and_agent, body):
    run_id, agent = run_and_agent
    answer = agent.generic(
        "POST", f"/api/agent/runs/{run_id}/state", body, content_type="application/json"
    )
    assert answer.status_code == 400, answer.content[:300]
    assert answer.json()["error"]["code"] == "malformed_request"


@pytest.mark.parametrize(
    "raw",
    [b"NaN", b"[Infinity]", b'{"a": -Infinity}', b"1e999", b'{"a": [1E400]}', b"[" * 50_000],
)
def test_the_strict_reader_refuses_what_is_not_json(raw):
    with pytest.raises(ValueError):
        parsers.loads(raw)


def test_the_strict_reader_reads_what_is(raw=b'{"a": [1.5, -2e300, 0, "\\u00e9"]}'):
    assert parsers.loads(raw) == {"a": [1.5, -2e300, 0, "\u00e9"]}


# --- No bare json.loads on what came from outside -----------------------------------


def bare_json_reads(source: str) -> list[int]:
    """Lines calling ``json.loads``/``json.load``, under any alias of the module or
    the function."""
    tree = ast.parse(source)
    modules, functions = {"json"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "json"}
        elif isinstance(node, ast.ImportFrom) and node.module == "json":
            functions |= {
                alias.asname or alias.name
                for alias in node.names
                if alias.name in ("loads", "load")
            }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if (
            isinstance(called, ast.Attribute)
            and called.attr in ("loads", "load")
            and isinstance(called.value, ast.Name)
            and called.value.id in modules
        ) or (isinstance(called, ast.Name) and called.id in functions):
            lines.append(node.lineno)
    return lines


def product_modules() -> list[Path]:
    return sorted(path for app in PRODUCT for path in (ROOT / app).rglob("*.py"))


@pytest.mark.parametrize(
    "source",
    [
        "import json\njson.loads(request.body)",
        "import json as j\nj.load(stream)",
        "from json import loads\nloads(data)",
        "from json import loads as read\nread(data)",
    ],
)
def test_the_check_sees_every_spelling(source):
    assert bare_json_reads(source) == [2]


def test_no_product_module_reads_json_with_a_bare_json_loads():
    assert len(product_modules()) > 100  # the walk reads the product
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{line}"
        for path in product_modules()
        if path.relative_to(ROOT).as_posix() not in BARE_LOADS_ALLOWED
        for line in bare_json_reads(path.read_text())
    ]
    assert found == [], "use visiona.api.parsers.loads"
    for allowed in BARE_LOADS_ALLOWED:  # an exception no longer needed goes
        assert bare_json_reads((ROOT / allowed).read_text()), allowed
