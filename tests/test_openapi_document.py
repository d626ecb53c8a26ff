"""What the OpenAPI document promises, checked where schemathesis would need luck."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from tests.devices.conftest import agent_client  # noqa: F401  (fixture)
from tests.models_repo.conftest import api_client

pytestmark = pytest.mark.django_db

BIGINT_MAX = 2**63 - 1


@pytest.fixture(scope="module")
def generated():
    """The generator (its registry knows each component's serializer) and its document."""
    generator = SchemaGenerator()
    return generator, generator.get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def document(generated):
    return generated[1]


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _parameter(operation, name):
    return next(p for p in operation["parameters"] if p["name"] == name)


def test_signed_in_operations_document_401_and_403(document):
    signed_in = [
        (path, method, operation)
        for path, method, operation in _operations(document)
        if {} not in operation.get("security", [])
    ]
    assert len(signed_in) >= 18
    for path, method, operation in signed_in:
        assert {"401", "403"} <= set(operation["responses"]), (method, path)
    public = document["paths"]["/api/agent/pair"]["post"]["responses"]
    assert "401" not in public


def test_every_body_documents_its_refusals(document):
    for path, method, operation in _operations(document):
        if "requestBody" in operation or method in ("post", "put", "patch"):
            assert {"400", "413", "415"} <= set(operation["responses"]), (method, path)


def test_every_operation_documents_an_outage_and_ids_a_404(document):
    for path, method, operation in _operations(document):
        assert "503" in operation["responses"], (method, path)
        if "{" in path:
            assert "404" in operation["responses"], (method, path)


def test_a_post_without_a_body_still_refuses_one(alice):
    # The CSRF check reads the body of every POST, so its refusals apply too.
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.cookies["csrftoken"] = "a" * 32
    response = client.post(
        "/api/devices/pairing-codes", "x", content_type="text/plain", HTTP_X_CSRFTOKEN="a" * 32
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_a_csrf_failure_is_documented_by_its_code(document):
    response = document["paths"]["/api/devices/pairing-codes"]["post"]["responses"]["403"]
    assert "csrf_failed" in response["description"]


def test_path_parameters_carry_their_patterns_and_bounds(document):
    job = _parameter(document["paths"]["/api/conversion/{job_id}"]["get"], "job_id")
    assert job["schema"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
    model = _parameter(document["paths"]["/api/models/{model_id}"]["get"], "model_id")
    assert (model["schema"]["minimum"], model["schema"]["maximum"]) == (0, BIGINT_MAX)


def test_bounds_do_not_depend_on_the_database(document):
    job = document["components"]["schemas"]["JobOutput"]["properties"]
    assert (job["progress"]["minimum"], job["progress"]["maximum"]) == (0, 100)
    assert job["model_id"]["maximum"] == 65535


def test_last_seen_may_be_null(document):
    me = document["components"]["schemas"]["AgentMeOutput"]["properties"]
    assert me["last_seen_at"]["nullable"] is True


def test_a_rename_requires_the_name(document):
    body = document["paths"]["/api/devices/{device_id}"]["patch"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert document["components"]["schemas"][ref]["required"] == ["name"]
    assert body["required"] is True


def test_the_page_past_the_last_is_a_documented_404(document, alice):
    assert "404" in document["paths"]["/api/models/"]["get"]["responses"]
    client = api_client(alice)
    response = client.get("/api/models/?page=2")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_lists_document_their_state_filter(document):
    for path in ("/api/runs", "/api/deployments", "/api/rollouts"):
        state = _parameter(document["paths"][path]["get"], "state")
        assert state["in"] == "query" and not state.get("required", False)
        assert "bogus" not in state["schema"]["enum"]
    runs = _parameter(document["paths"]["/api/runs"]["get"], "state")["schema"]["enum"]
    assert set(runs) >= {"pending", "running", "completed", "failed", "cancelled"}


@pytest.mark.parametrize("value", ["", "KL520"])
def test_an_empty_filter_means_any(alice, value):
    client = api_client(alice)
    for name in ("chip", "source", "sort"):
        assert (
            client.get(f"/api/models/?{name}={value if name == 'chip' else ''}").status_code == 200
        )


@pytest.mark.parametrize(
    "path",
    [
        f"/api/models/{BIGINT_MAX}",
        f"/api/models/{BIGINT_MAX + 1}",
        f"/api/models/{10**30}/download",
    ],
)
def test_an_id_past_bigint_is_a_404_on_any_database(alice, path):
    client = api_client(alice)
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(path)
        if method == "get" or not path.endswith("download"):
            assert response.status_code == 404, (method, path, response.content)


@pytest.fixture
def device_token(alice):
    from devices import services

    code = services.pairing_code_create(user=alice).code
    return services.device_pair(
        code=code, serial="DOC-0001", chip="KL720", client_address="192.0.2.1"
    ).token


@pytest.mark.parametrize("body", [{"agent_version": 5}, {"status": 1}, {"status": True}])
def test_a_number_is_not_a_string(agent_client, device_token, body):  # noqa: F811
    client = agent_client(device_token)
    response = client.post("/api/agent/heartbeat", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("path", ["/api/agent/heartbeat", "/api/agent/pair"])
def test_the_agent_api_speaks_json_only(agent_client, device_token, path):  # noqa: F811
    client = agent_client(device_token)
    # As a form, an empty status would read as "not sent" and pass as "ready".
    response = client.post(path, {"status": "", "code": "x"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("query", ["page=1&page=2", "chip=KL520&chip=KL720", "sort=name&sort="])
def test_a_query_parameter_is_sent_once(alice, query):
    client = api_client(alice)
    response = client.get(f"/api/models/?{query}")
    assert response.status_code == 400, response.content
    (field,) = response.json()["error"]["details"]["fields"]
    assert field["field"] == query.split("=")[0]


# --- A list the API refuses empty says minItems -------------------------------------

_LISTS = (serializers.ListField, serializers.ListSerializer, serializers.MultipleChoiceField)


def _request_components(document) -> set[str]:
    """Every schema a request body names, and the ones they nest."""
    refs: list[str] = []

    def collect(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"].rsplit("/", 1)[1])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for _path, _method, operation in _operations(document):
        collect(operation.get("requestBody", {}))
    found: set[str] = set()
    while refs:
        name = refs.pop()
        if name not in found:
            found.add(name)
            collect(document["components"]["schemas"][name])
    return found


def _least_items(field) -> int:
    """How many items the field requires (0: it takes an empty list)."""
    least = getattr(field, "min_length", None) or 0
    if getattr(field, "allow_empty", True) is False:
        least = max(least, 1)
    return least


def test_every_list_refused_empty_says_min_items(generated):
    generator, document = generated
    # The registry keeps what each component was made from (a serializer, or a name).
    made_from = {
        name: component.object
        for (name, kind), component in generator.registry._components.items()
        if kind == "schemas"
    }
    checked = []
    for name in sorted(_request_components(document)):
        serializer = made_from[name]
        if isinstance(serializer, type):
            serializer = serializer()
        if not isinstance(serializer, serializers.Serializer):
            continue
        properties = document["components"]["schemas"][name].get("properties", {})
        for field_name, field in serializer.fields.items():
            if field.read_only or not isinstance(field, _LISTS):
                continue
            least = _least_items(field)
            checked.append((name, field_name, least))
            assert properties[field_name].get("minItems", 0) == least, (name, field_name)
    assert ("RunCreateRequest", "inputs", 1) in checked
    assert ("GroupDevicesAddInputRequest", "device_ids", 0) in checked  # may be empty
    assert len([entry for entry in checked if entry[2]]) >= 6


def test_runs_without_inputs_are_refused_as_the_document_says(alice):
    response = api_client(alice).post(
        "/api/runs",
        {"model_id": 1, "device_id": "6f1c5d3e-0000-4000-8000-000000000001"},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["details"]["fields"]
    assert {"field": "inputs", "message": "Choose at least one input."} in fields
