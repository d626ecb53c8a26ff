"""A live visionA with the sandbox as its upstreams, and HTTP clients signed in to it.

visionA and the stand-ins run in one live server: visionA calls
``{live_server}/sandbox/...`` over real HTTP, exactly as it calls Kneron's services.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

from tests import onnx_models
from tests.conftest import CHROMIUM

# The background worker in its own process (the fleet's tests).
from tests.e2e.fleet_support import worker  # noqa: F401
from tests.models_repo.conftest import make_model  # noqa: F401  (stored models)

# The relay and demo agents in their own processes (for the web side's tunnel tests).
from tests.relay.conftest import agents, connected_agent, fast_heartbeats, relay  # noqa: F401

BOUNDARY = "e2eBoundary7MA4YWxkTrZu0gW"
# Screenshots of browser tests (not committed).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture
def sandbox(live_server, settings, tmp_path):
    """Point every upstream at the sandbox in the live server."""
    base = live_server.url
    settings.CONVERTER_BASE_URL = f"{base}/sandbox/converter"
    settings.FAA_BASE_URL = f"{base}/sandbox/faa"
    settings.MC_SERVICE_ISSUER = f"{base}/sandbox/mc"
    settings.MC_SERVICE_CLIENT_ID = "visiona-e2e"
    settings.MC_SERVICE_CLIENT_SECRET = "e2e-secret"
    settings.MC_TENANT_ID = "tenant-e2e"
    settings.SANDBOX_DIR = tmp_path / "sandbox"
    settings.SANDBOX_STAGE_SECONDS = 0
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return settings


class VisionA:
    """A signed-in browser-like HTTP client of the live server."""

    def __init__(self, base_url: str, user) -> None:
        self.base_url = base_url
        self.user = user
        self.http = requests.Session()
        self.http.trust_env = False
        login = Client()
        login.force_login(user)
        # Set by hand: the cookies are Secure outside DEBUG, and this is plain HTTP.
        session_cookie = login.cookies[django_settings.SESSION_COOKIE_NAME].value
        self.http.cookies.set(django_settings.SESSION_COOKIE_NAME, session_cookie)
        self.csrf = secrets.token_hex(16)
        self.http.cookies.set(django_settings.CSRF_COOKIE_NAME, self.csrf)

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url(path), timeout=60, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        headers = {"X-CSRFToken": self.csrf, **kwargs.pop("headers", {})}
        return self.http.post(self.url(path), headers=headers, timeout=120, **kwargs)

    def upload(self, parts) -> requests.Response:
        body = Form(parts)
        return self.post(
            "/api/conversion/init",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )


class Form:
    """A multipart body produced piece by piece, with a known length.

    parts: (name, filename or None, bytes or an iterable of bytes, size).
    """

    def __init__(self, parts) -> None:
        self.parts = parts

    def _head(self, name, filename) -> bytes:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"\r\nContent-Type: application/octet-stream'
        return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()

    def __len__(self) -> int:
        total = sum(len(self._head(n, f)) + size + 2 for n, f, _c, size in self.parts)
        return total + len(f"--{BOUNDARY}--\r\n")

    def __iter__(self):
        for name, filename, content, _size in self.parts:
            yield self._head(name, filename)
            if isinstance(content, bytes):
                yield content
            else:
                yield from content
            yield b"\r\n"
        yield f"--{BOUNDARY}--\r\n".encode()


def text(name: str, value: str):
    return (name, None, value.encode(), len(value.encode()))


def file(name: str, filename: str, content: bytes):
    return (name, filename, content, len(content))


def standard_form(model: bytes | None = None, *, filename="yolo.onnx", images=3):
    model = model if model is not None else onnx_models.weights_model(10_000)
    parts = [
        text("platform", "720"),
        text("model_id", "32769"),
        text("version", "0001"),
        file("model", filename, model),
    ]
    return parts + [
        file("ref_images", f"img{i}.jpg", b"\xff\xd8\xff" + bytes([i + 1]) * 2000)
        for i in range(images)
    ]


@pytest.fixture
def alice_http(live_server, alice, sandbox) -> VisionA:
    return VisionA(live_server.url, alice)


@pytest.fixture
def bob_http(live_server, bob, sandbox) -> VisionA:
    return VisionA(live_server.url, bob)


@pytest.fixture(scope="module")
def browser():
    """Chromium driven by Playwright (tests marked ``browser``), one per test file.

    Starting Playwright's driver and Chromium took 3-5 s of each test under load; the
    tests of a file share the one browser process, each in contexts of its own (the
    ``page`` and ``open_tab`` fixtures: their own cookies, storage and cache), so no test
    sees another's state. Every test of a file that uses it is a browser test: the
    running event loop Playwright leaves in this thread between its calls (hence
    DJANGO_ALLOW_ASYNC_UNSAFE) lasts for the file."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own
    # ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser, live_server, sandbox, alice, password, request):
    """A browser tab signed in as alice on the convert page; ``page.shot(name)`` saves a
    screenshot under test-artifacts/browser/<test>/."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    shots = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    shots.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))
    page.shot = lambda name: page.screenshot(
        path=str(shots / f"{next(counter):02}-{name}.png"), full_page=True
    )
    page.goto(f"{live_server.url}/convert/")
    page.fill("#id_username", alice.username)
    page.fill("#id_password", password)
    page.shot("sign-in")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/convert/")
    page.shot("convert-page")
    yield page
    # ORM calls made while Playwright's loop runs in this thread get their own
    # connection (asgiref sees an async context); close it, or it outlives the run.
    connections.close_all()
    context.close()


@pytest.fixture
def open_tab(browser, live_server, sandbox, alice, password, request):
    """``open_tab(timezone_id=..., viewport=(w, h), language=...)``: a tab signed in as
    alice with those browser settings (tests/e2e/signed_in.py); closed after the test."""
    from tests.e2e.signed_in import signed_in_tab

    tabs = []

    def open_one(**options):
        tab = signed_in_tab(browser, live_server.url, alice, password, request, **options)
        tabs.append(tab)
        return tab

    yield open_one
    connections.close_all()  # as the page fixture: ORM calls made under Playwright's loop
    for tab in tabs:
        tab.context.close()
