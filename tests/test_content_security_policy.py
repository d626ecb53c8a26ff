"""Every answer carries a Content-Security-Policy that allows nothing inline."""

import importlib
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(
    path
    for pattern in ("templates/**/*.html", "*/templates/**/*.html")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.mark.parametrize("path", ["/", "/convert/", "/models/", "/devices/", "/api/docs/"])
def test_pages_send_a_strict_policy(alice_client, path):
    response = alice_client.get(path)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"][0] == "'self'"
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_sign_in_redirects_and_errors_carry_it_too(client):
    assert "Content-Security-Policy" in client.get("/convert/")  # the redirect to sign in
    assert "Content-Security-Policy" in client.get("/accounts/login/")
    assert "Content-Security-Policy" in client.get("/no-such-page/")


def test_the_api_docs_load_their_script_from_a_url(alice_client):
    page = alice_client.get("/api/docs/").content.decode()
    assert re.search(r"<script>\s*\S", page) is None  # no inline script
    assert "<style" not in page
    script = alice_client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(ROOT)) for p in TEMPLATES])
def test_templates_have_no_inline_script_or_style(path):
    text = path.read_text(encoding="utf-8")
    # A <script> must load a file (src=) or carry data (json_script's application/json).
    inline_scripts = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", text)
        if "src=" not in tag and "application/json" not in tag
    ]
    assert not inline_scripts
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"<[a-z][^>]*\sstyle\s*=|<style\b", text), "inline style"
    assert "javascript:" not in text


def test_form_action_lets_sign_out_reach_member_center(monkeypatch):
    # Sign-out POSTs, then redirects to the provider's end-session endpoint.
    monkeypatch.setenv("OIDC_OP_ISSUER", "https://login.example.com/realms/kneron")
    monkeypatch.setenv("OIDC_RP_CLIENT_ID", "visiona-web")
    monkeypatch.setenv("OIDC_OP_END_SESSION_ENDPOINT", "https://sso.example.net:8443/logout")
    # The policy is built in visiona/settings/web.py from auth.py's provider addresses.
    from visiona.settings import auth, web

    try:
        importlib.reload(auth)
        fresh = importlib.reload(web)
        form_action = fresh.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]
    finally:
        monkeypatch.undo()
        importlib.reload(auth)
        importlib.reload(web)
    assert form_action == ["'self'", "https://login.example.com", "https://sso.example.net:8443"]
