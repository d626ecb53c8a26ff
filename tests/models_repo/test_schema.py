"""The OpenAPI document builds without a warning and covers every /api/ route."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from tests.test_url_access import ALL_URLS

pytestmark = pytest.mark.django_db

# Not part of the API they describe.
NOT_DOCUMENTED = {"api-schema", "api-docs"}


def _as_openapi_path(path: str) -> str:
    """/api/models/1/download -> /api/models/{}/download, to compare shapes.

    A <path:…> parameter is sampled as "sample/path": one parameter, not two."""
    return re.sub(
        r"/(?:sample/path|1|sample|00000000-0000-0000-0000-000000000001)(?=/|$)", "/{}", path
    )


def test_the_schema_builds_without_warnings(tmp_path):
    # --fail-on-warn turns every warning and error of the generator into a failure.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yml"))


def test_every_api_route_is_documented():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {re.sub(r"\{\w+\}", "{}", path) for path in schema["paths"]}
    routes = {
        _as_openapi_path(path)
        for path, name in ALL_URLS
        if path.startswith("/api/") and name not in NOT_DOCUMENTED
    }
    assert routes, "the URL walk found no API routes"
    assert routes - documented == set()
    assert documented - routes == set()


def test_the_models_operations_are_described():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = schema["paths"]["/api/models/"]
    assert set(operations) == {"get", "post"}
    assert "multipart/form-data" in operations["post"]["requestBody"]["content"]
    assert operations["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ModelPage"
    }


def test_schema_and_docs_are_for_signed_in_users(alice_client):
    from django.test import Client

    for name in NOT_DOCUMENTED:
        response = Client().get(reverse(name))
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "unauthenticated"
    schema = alice_client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/models/" in schema.json()["paths"]


def test_the_docs_page_loads_its_assets_locally(alice_client):
    page = alice_client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
