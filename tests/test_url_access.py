"""Walks every URL pattern and proves that only the public ones work signed out.

Pages redirect to sign-in, APIs answer the 401 envelope. A URL added later is
covered automatically: the walk reads the resolver, not a list in this file.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from visiona.views import API_NOT_FOUND

pytestmark = pytest.mark.django_db

# URL names that must work signed out: health, system info, the sign-in flow,
# language switching, the translation catalogue for scripts and the agent's download.
PUBLIC_NAMES = {
    "healthz",
    "api-system-info",
    "login",
    "logout",
    "oidc_authentication_init",
    "oidc_authentication_callback",
    "set_language",
    "javascript-catalog",
    # The pairing exchange is authenticated by the one-time code itself.
    "api-agent-pair",
    # The agent's package: a device installs it before it has any credential.
    "downloads",
    "downloads-file",
}
# Prefixes with their own authentication, checked by their own tests:
# the agent API (device tokens) answers the same 401 envelope, the sandbox
# stand-ins are server-to-server APIs of fake upstreams.
SELF_AUTHENTICATED_PREFIXES = ("sandbox/",)

_SAMPLE_BY_CONVERTER = {
    "int": "1",
    "str": "sample",
    "slug": "sample",
    "path": "sample/path",
    "uuid": str(uuid.UUID(int=1)),
}


def _route_to_path(route: str) -> str:
    def sample(match: re.Match) -> str:
        converter = match.group(1) or "str"
        return _SAMPLE_BY_CONVERTER.get(converter, "1")

    return re.sub(r"<(?:(\w+):)?\w+>", sample, route)


def _regex_to_path(regex: str) -> str | None:
    def sample(match: re.Match) -> str:
        body = match.group(1)
        if re.fullmatch(r"[\w|]+", body):
            return body.split("|")[0]
        return "1"

    path = re.sub(r"\(\?P<\w+>([^)]*)\)", sample, regex).lstrip("^").rstrip("$").rstrip("\\Z")
    return None if re.search(r"[\\()\[\]*+?]", path) else path


def iter_urls(resolver=None, prefix: str = ""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern.pattern, RoutePattern):
            part = _route_to_path(str(pattern.pattern))
        elif isinstance(pattern.pattern, RegexPattern):
            part = _regex_to_path(pattern.pattern.regex.pattern)
            if part is None:
                continue
        else:  # pragma: no cover - LocalePrefixPattern is not used
            continue
        if isinstance(pattern, URLResolver):
            yield from iter_urls(pattern, prefix + part)
        elif isinstance(pattern, URLPattern) and pattern.name != API_NOT_FOUND:
            # The last /api/ route is no route: any path no other matches, the 404
            # envelope to anyone (tests/test_api_document_classes.py).
            yield "/" + prefix + part, pattern.name


ALL_URLS = sorted(set(iter_urls()))


def _is_public(path: str, name: str | None) -> bool:
    return name in PUBLIC_NAMES or path.lstrip("/").startswith(SELF_AUTHENTICATED_PREFIXES)


PROTECTED_URLS = [(path, name) for path, name in ALL_URLS if not _is_public(path, name)]
PUBLIC_URLS = [(path, name) for path, name in ALL_URLS if name in PUBLIC_NAMES]


def test_the_walk_finds_the_routes():
    paths = {path for path, _ in ALL_URLS}
    assert "/healthz" in paths
    assert "/api/system/health" in paths
    assert any(path.startswith("/admin/") for path in paths)


@pytest.mark.parametrize(("path", "name"), PROTECTED_URLS, ids=[p for p, _ in PROTECTED_URLS])
def test_protected_urls_refuse_anonymous_visitors(client, path, name):
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.json()["error"]["code"] in {"unauthenticated", "device_token_invalid"}
        elif path.startswith("/admin/"):
            assert response.status_code == 302, (method, path, response.status_code)
            assert response["Location"].startswith("/admin/login/")
        else:
            assert response.status_code == 302, (method, path, response.status_code)
            assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(("path", "name"), PUBLIC_URLS, ids=[p for p, _ in PUBLIC_URLS])
def test_public_urls_do_not_ask_for_sign_in(client, path, name):
    response = client.get(path)
    assert response.status_code != 401
    assert not response.get("Location", "").startswith("/accounts/login/?next=")


@pytest.mark.parametrize("path", ["/healthz", "/api/system/info", "/accounts/login/"])
def test_public_urls_answer_signed_out(client, path):
    assert client.get(path).status_code == 200
