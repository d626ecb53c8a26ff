"""Every integer the API reads is bounded to 64 bits, so the two databases agree.

A number past 64 bits reaches SQLite's driver as an OverflowError (a 500) and
PostgreSQL as a comparison that matches nothing (or a bigint column that refuses it):
the API refuses it first, with 400 validation_failed. Query filters get the bound from
``QuerySerializer``; bodies from ``visiona.api.fields.IntegerField`` or a declared range.
An id in a path is walked for every URL pattern with an ``<int:...>`` converter, API
and pages: past 64 bits it is a 404 (the envelope, or the 404 page), and a negative one
matches no route; never a 500 (run with DATABASE_URL set for PostgreSQL).
"""

from __future__ import annotations

import inspect
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import serializers
from rest_framework.views import APIView

from tests.deployments.conftest import (  # noqa: F401  (fixtures)
    agent_client,
    alice_device,
    issue_code,
    pair,
)
from visiona.api.fields import INT64_MAX, INT64_MIN

pytestmark = pytest.mark.django_db

BEYOND = [str(2**63), str(2**64 + 5), "9" * 40, str(-(2**63) - 1)]


def _views(patterns=None, seen=None):
    seen = set() if seen is None else seen
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, seen)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", None)
            if view is not None and issubclass(view, APIView) and view not in seen:
                seen.add(view)
                yield view


def _input_serializers():
    for view in _views():
        for name, value in inspect.getmembers(view):
            if (
                inspect.isclass(value)
                and issubclass(value, serializers.Serializer)
                and ("Input" in name or "Filter" in name)
            ):
                yield f"{view.__module__}.{view.__name__}.{name}", value


def _integer_fields(serializer, prefix=""):
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer):
            yield from _integer_fields(field, f"{prefix}{name}.")
        elif isinstance(field, serializers.ListField):
            if isinstance(field.child, serializers.IntegerField):
                yield f"{prefix}{name}[]", field.child
        elif isinstance(field, serializers.IntegerField) and not field.read_only:
            yield f"{prefix}{name}", field


def test_every_integer_an_api_view_reads_is_bounded():
    found, unbounded = 0, []
    for where, serializer_class in _input_serializers():
        for name, field in _integer_fields(serializer_class()):
            found += 1
            if (
                field.max_value is None
                or field.min_value is None
                or field.max_value > INT64_MAX
                or field.min_value < INT64_MIN
            ):
                unbounded.append(f"{where}.{name}")
    assert found >= 5  # the walk finds the filters and bodies it is meant to check
    assert unbounded == []


@pytest.mark.parametrize("value", BEYOND)
@pytest.mark.parametrize(
    "query",
    [
        "/api/models/?page={}",
        "/api/models/?page_size={}",
        "/api/conversion/?page_size={}",
        "/api/deployments?model={}",
        "/api/deployments?page={}",
        "/api/deployments?page_size={}",
    ],
)
def test_a_numeric_filter_beyond_64_bits_is_400(alice_client, query, value):
    response = alice_client.get(query.format(value))
    assert response.status_code == 400, response.content[:300]
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    [field] = body["details"]["fields"]
    assert field["field"] == query.split("?")[1].split("=")[0]


@pytest.mark.parametrize("value", [str(INT64_MAX), "1"])
def test_the_largest_64_bit_filter_is_answered_on_its_merits(alice_client, value):
    response = alice_client.get(f"/api/deployments?model={value}")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("value", BEYOND[:3])
@pytest.mark.parametrize("path", ["/api/models/{}", "/api/models/{}/download"])
def test_a_path_id_beyond_64_bits_is_not_found_on_either_database(alice_client, path, value):
    response = alice_client.get(path.format(value))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


def test_the_document_states_the_bound(alice_client):
    document = alice_client.get("/api/schema/?format=json").json()
    [parameter] = [
        p
        for p in document["paths"]["/api/deployments"]["get"]["parameters"]
        if p["name"] == "model"
    ]
    assert parameter["schema"]["maximum"] == INT64_MAX


# --- Every <int:...> in a URL, API and pages ---------------------------------------

# Past 64 bits both ways, and a negative id (which <int:> does not match at all).
PATH_IDS = [str(2**63), str(2**64 + 1), "-1"]


def _int_routes(patterns=None, prefix=""):
    """(route, view's module) of every URL pattern with an <int:...> converter."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _int_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and "<int:" in prefix + str(pattern.pattern):
            yield prefix + str(pattern.pattern)


INT_ROUTES = sorted(set(_int_routes()))


def test_the_walk_finds_the_api_and_the_pages():
    assert {
        "api/models/<int:model_id>",
        "api/agent/runs/<uuid:run_id>/inputs/<int:index>/result",
        "models/<int:model_id>/edit/",
        "runs/new/<int:model_id>/",
    } <= set(INT_ROUTES)


@pytest.fixture
def a_run(alice, alice_device, agent_client, client):  # noqa: F811
    """Alice's run on her device, so a path with its id reaches the <int:> lookup."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.deployments.run_support import IMAGES, installed_model

    model, _, _ = installed_model(alice, alice_device.device)
    client.force_login(alice)
    image = SimpleUploadedFile("a.png", IMAGES[0], "image/png")
    answer = client.post(
        "/api/runs",
        {"model_id": model.pk, "device_id": str(alice_device.device.pk), "inputs": [image]},
    )
    assert answer.status_code == 201, answer.content
    return answer.json()["id"], agent_client(alice_device.token)


@pytest.mark.parametrize("route", INT_ROUTES)
def test_an_id_past_64_bits_or_negative_is_never_a_500(request, alice, route):
    client = Client()
    client.force_login(alice)
    if "<uuid:" in route:
        run_id, agent = request.getfixturevalue("a_run")
        route = re.sub(r"<uuid:\w+>", run_id, route)
        if route.startswith("api/agent/"):
            client = agent
    is_api = route.startswith("api/")
    for value in PATH_IDS:
        path = "/" + re.sub(r"<int:\w+>", value, route)
        statuses = set()
        for method in ("get", "post", "patch", "delete") if is_api else ("get", "post"):
            response = getattr(client, method)(path)
            where = (method, path, response.status_code)
            statuses.add(response.status_code)
            assert response.status_code in (400, 404, 405), where  # 405: a method not served
            if is_api:
                assert response.json()["error"]["request_id"], where  # the envelope
            elif response.status_code == 404:
                assert b'class="error-status">404' in response.content, where  # the page
        assert 404 in statuses, path  # the methods it serves looked the id up
