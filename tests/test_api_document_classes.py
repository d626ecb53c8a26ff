"""What the OpenAPI document promises holds for every way of calling an operation.

- A list the API refuses empty says ``minItems`` in the document.
- An empty form field (urlencoded or multipart) means what the same empty JSON field
  means: validated alike, never read as "absent".
- A method a route does not serve is 405 with a personal token as with a session.
- ``POST`` (or any method) to an /api/ path without its trailing slash is the 404
  envelope naming the path with the slash, never an HTML redirect; any other unknown
  /api/ path is the 404 envelope, with DEBUG on too.
- The common error codes are merged into an operation's own description of a status.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.test.client import MULTIPART_CONTENT, encode_multipart

from devices import services as device_services
from tests.models_repo.conftest import make_model, nef_bytes  # noqa: F401  (fixtures)
from tokens import services as token_services
from visiona.api.schema import _merged, documented_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(alice_client):
    return alice_client.get("/api/schema/?format=json").json()


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("ModelUploadRequest", "chips"),
        ("ModelUpdateRequest", "chips"),
        ("TokenCreateRequest", "scopes"),
        ("DeploymentCreateInputRequest", "device_ids"),
        ("RunCreateRequest", "inputs"),
    ],
)
def test_a_list_refused_empty_has_min_items(document, component, field):
    assert document["components"]["schemas"][component]["properties"][field]["minItems"] == 1


def test_a_list_that_may_be_empty_has_no_min_items(document):
    images = document["components"]["schemas"]["ConversionUploadRequest"]["properties"]
    assert "minItems" not in images["ref_images"]


# --- Empty form fields ---------------------------------------------------------


def as_form(data: dict) -> tuple[str, str]:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True), "application/x-www-form-urlencoded"


def as_multipart(data: dict) -> tuple[bytes, str]:
    return encode_multipart("BoUnDaRy", data), MULTIPART_CONTENT.replace(
        "BoUnDaRyStRiNg", "BoUnDaRy"
    )


def answers(client, method: str, path: str, data: dict) -> list[tuple[int, object]]:
    """The same body as JSON, as a form and as multipart: (status, error code or body)."""
    seen = []
    for encode in (None, as_form, as_multipart):
        if encode is None:
            response = client.generic(
                method, path, __import__("json").dumps(data), "application/json"
            )
        else:
            body, content_type = encode(data)
            response = client.generic(method, path, body, content_type)
        body = response.json() if response.content else None
        code = body["error"]["code"] if body and "error" in body else None
        fields = (
            sorted(f["field"] for f in body["error"]["details"].get("fields", [])) if code else None
        )
        seen.append((response.status_code, code, fields))
    return seen


@pytest.mark.parametrize("data", [{"name": ""}, {"name": "", "description": ""}, {"chips": ""}])
def test_an_empty_field_of_a_model_update_means_what_json_means(
    alice_client,
    alice,
    make_model,  # noqa: F811
    data,
):
    model = make_model(alice, "detector", chips=("KL720",), size=1000)
    seen = answers(alice_client, "PATCH", f"/api/models/{model.pk}", data)
    assert seen[0][0] == 400  # JSON: "name" may not be blank, "chips" not a list
    assert seen[1] == seen[0] and seen[2] == seen[0], seen
    model.refresh_from_db()
    assert model.name == "detector"


def test_an_empty_optional_field_allowed_blank_is_accepted_alike(alice_client, alice, make_model):  # noqa: F811
    model = make_model(alice, "detector", chips=("KL720",), size=1000)
    seen = answers(alice_client, "PATCH", f"/api/models/{model.pk}", {"description": ""})
    assert [status for status, _code, _fields in seen] == [200, 200, 200]


def test_an_empty_token_name_means_what_json_means(alice_client):
    data = {"name": "", "scopes": ["read"], "expires_in_days": 1}
    seen = answers(alice_client, "POST", "/api/tokens/", data)
    assert seen[0] == (400, "validation_failed", ["name"])
    assert seen[1] == seen[0] and seen[2] == seen[0], seen


def test_an_empty_number_means_what_json_means(alice_client):
    data = {"name": "ci", "scopes": ["read"], "expires_in_days": ""}
    seen = answers(alice_client, "POST", "/api/tokens/", data)
    assert seen[0] == (400, "validation_failed", ["expires_in_days"])
    assert seen[1] == seen[0] and seen[2] == seen[0], seen


def test_an_empty_device_name_means_what_json_means(alice_client, alice):
    code = device_services.pairing_code_create(user=alice).code
    device = device_services.device_pair(
        code=code, serial="SN-FORM", chip="KL720", client_address="192.0.2.1"
    ).device
    seen = answers(alice_client, "PATCH", f"/api/devices/{device.pk}", {"name": ""})
    assert seen[1] == seen[0] and seen[2] == seen[0], seen


# --- 405 with a token as with a session ------------------------------------------


@pytest.fixture
def token(alice):
    return token_services.token_create(
        owner=alice, name="ci", scopes=["read", "convert", "deploy"], expires_in_days=1
    ).secret


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/models/"),
        ("delete", "/api/models/"),
        ("delete", "/api/tokens/"),
        ("put", "/api/deployments"),
        ("patch", "/api/devices/"),
        ("post", "/api/auth/me"),
        ("put", "/api/conversion/active"),
    ],
)
def test_an_unserved_method_is_405_with_a_token_as_with_a_session(
    alice_client, token, method, path
):
    with_session = getattr(alice_client, method)(path)
    with_token = getattr(Client(), method)(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert with_session.status_code == with_token.status_code == 405
    assert with_token.json()["error"]["code"] == "method_not_allowed"


def test_a_served_method_a_token_may_not_use_is_still_refused(token):
    # Managing tokens needs a session: the route serves POST, a token may not.
    response = Client().post(
        "/api/tokens/", {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_not_allowed"


# --- No redirect to add a slash under /api/ ------------------------------------------


@pytest.mark.parametrize("method", ["post", "get", "put", "delete"])
@pytest.mark.parametrize("path", ["/api/models", "/api/tokens", "/api/devices", "/api/conversion"])
def test_an_api_path_without_its_slash_is_the_404_envelope(alice_client, token, method, path):
    for client, extra in (
        (alice_client, {}),
        (Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}),
    ):
        response = getattr(client, method)(path, **extra)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error["code"] == "not_found"
        assert error["details"] == {"path": path + "/"}


def test_a_page_without_its_slash_is_still_redirected(alice_client):
    response = alice_client.get("/models")
    assert response.status_code == 301
    assert response["Location"] == "/models/"


@pytest.mark.parametrize(
    "path", ["/api/nope", "/api/", "/api/deployments/", "/api/models/abc", "/api/no/such/thing"]
)
@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_path_is_the_404_envelope_with_debug_on_too(
    alice_client, settings, debug, path
):
    # ``make run`` runs with DEBUG on: Django's technical 404 page, HTML listing every
    # route, must never answer under /api/.
    settings.DEBUG = debug
    for method in ("get", "post", "delete"):
        response = getattr(alice_client, method)(path)
        assert response.status_code == 404, (method, response.content[:200])
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details", "request_id"}
        assert error["code"] == "not_found" and error["details"] == {}
        assert b"api/schema/" not in response.content and b"URLconf" not in response.content
    # Signed out alike: no route, nothing to sign in to.
    assert Client().get(path).status_code == 404


def test_a_page_without_its_slash_is_redirected_with_debug_on(alice_client, settings):
    settings.DEBUG = True
    response = alice_client.get("/models")
    assert response.status_code == 301 and response["Location"] == "/models/"


# --- Common error codes merged into an operation's own ------------------------------


def test_the_common_codes_are_merged_into_an_operations_own(document):
    pair = document["paths"]["/api/agent/pair"]["post"]["responses"]["400"]["description"]
    assert {"pairing_code_invalid", "validation_failed", "malformed_request"} <= (
        documented_codes(pair)
    )
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            if "503" in responses:
                assert "cache_unavailable" in documented_codes(responses["503"]["description"]), (
                    method,
                    path,
                )


def test_merging_keeps_the_operations_words_and_adds_only_whats_missing():
    own = {"description": "thing_not_found: no such thing.", "content": {}}
    merged = _merged(own, "not_found: no such resource.")
    assert merged["description"] == "thing_not_found: no such thing; not_found: no such resource."
    assert merged["content"] == {}
    assert _merged(merged, "not_found: no such resource.") == merged
