"""Every /api/ route declares the scope a personal token needs, per method, and the
declaration is enforced. The walk reads the resolver: a route added later without a
declaration fails here (and refuses tokens at runtime: fail closed)."""

from __future__ import annotations

import pytest
from django.urls import resolve
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory

from tests.test_url_access import ALL_URLS
from tests.tokens.conftest import bearer
from tokens.authentication import PersonalTokenAuthentication
from tokens.errors import TokenNotAllowed
from tokens.permissions import TokenScopeRequired
from visiona.api.scopes import ANY_SCOPE, MARKERS, NOT_FOR_TOKENS, PUBLIC, Scope, declared_scope

pytestmark = pytest.mark.django_db

API_URLS = [(path, name) for path, name in ALL_URLS if path.startswith("/api/")]


def _view_class(path: str):
    callback = resolve(path).func
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def _methods(view_class) -> list[str]:
    return [m for m in view_class.http_method_names if m != "options" and hasattr(view_class, m)]


ROUTE_METHODS = [
    (path, method)
    for path, _name in API_URLS
    for method in _methods(_view_class(path))
    if method != "head"
]


def test_the_walk_finds_the_api():
    paths = {path for path, _ in API_URLS}
    assert {"/api/conversion/", "/api/models/", "/api/auth/me", "/api/tokens/"} <= paths
    assert len(ROUTE_METHODS) > 25


@pytest.mark.parametrize(("path", "name"), API_URLS, ids=[p for p, _ in API_URLS])
def test_every_api_route_declares_a_scope_for_each_method(path, name):
    view_class = _view_class(path)
    assert view_class is not None, f"{path} is not a class-based API view"
    for method in [*_methods(view_class), "options"]:
        declared = declared_scope(view_class, method)
        assert declared in {*Scope.values, *MARKERS}, (
            f"{view_class.__name__}.{method} ({path}) declares no token scope: set token_scope"
        )


@pytest.mark.parametrize(("path", "name"), API_URLS, ids=[p for p, _ in API_URLS])
def test_views_that_take_tokens_enforce_scopes(path, name):
    view_class = _view_class(path)
    view = view_class()
    takes_tokens = any(
        isinstance(a, PersonalTokenAuthentication) for a in view.get_authenticators()
    )
    permissions = {type(p) for p in view.get_permissions()}
    if takes_tokens:
        assert TokenScopeRequired in permissions, path
    declared = {declared_scope(view_class, m) for m in _methods(view_class)}
    if PUBLIC in declared:
        assert AllowAny in permissions and not takes_tokens, path


def _scoped(path: str, method: str):
    return declared_scope(_view_class(path), method)


SCOPED = [(p, m) for p, m in ROUTE_METHODS if _scoped(p, m) in Scope.values]
REFUSED = [(p, m) for p, m in ROUTE_METHODS if _scoped(p, m) == NOT_FOR_TOKENS]


def _call(client, method: str, path: str, secret: str):
    return getattr(client, method)(path, content_type="application/json", **bearer(secret))


@pytest.mark.parametrize(("path", "method"), SCOPED, ids=[f"{m} {p}" for p, m in SCOPED])
def test_a_token_without_the_scope_is_refused(client, alice, make_token, path, method):
    needed = _scoped(path, method)
    others = [scope for scope in Scope.values if scope != needed]
    without = make_token(alice, scopes=others)
    response = _call(client, method, path, without.secret)
    assert response.status_code == 403, (method, path, response.status_code)
    error = response.json()["error"]
    assert error["code"] == "token_scope_missing"
    assert error["details"]["required"] == needed
    assert error["details"]["tokens_url"] == "http://testserver/tokens/"
    assert f"“{needed}”" in error["message"] and "/tokens/" in error["message"]

    only = make_token(alice, scopes=[needed], name="only")
    response = _call(client, method, path, only.secret)
    assert response.status_code not in (401, 403), (method, path, response.content[:300])


@pytest.mark.parametrize(("path", "method"), REFUSED, ids=[f"{m} {p}" for p, m in REFUSED])
def test_token_management_and_the_agent_api_refuse_personal_tokens(
    client, alice, make_token, path, method
):
    issued = make_token(alice)
    response = _call(client, method, path, issued.secret)
    assert response.status_code in (401, 403), (method, path, response.status_code)
    assert response.json()["error"]["code"] in {"token_not_allowed", "device_token_invalid"}


def test_any_scope_takes_any_token(client, alice, make_token):
    issued = make_token(alice, scopes=["deploy"])
    assert _scoped("/api/auth/me", "get") == ANY_SCOPE
    assert client.get("/api/auth/me", **bearer(issued.secret)).status_code == 200


def test_a_view_that_declares_nothing_refuses_tokens(alice, make_token):
    from rest_framework.views import APIView

    class Undeclared(APIView):
        def get(self, request):  # pragma: no cover - refused before
            raise AssertionError

    issued = make_token(alice)
    request = APIRequestFactory().get("/api/new", **bearer(issued.secret))
    response = Undeclared.as_view()(request)
    assert response.status_code == 403
    assert response.data["error"]["code"] == TokenNotAllowed.code
