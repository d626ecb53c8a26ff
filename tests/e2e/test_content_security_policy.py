"""The main pages, Swagger UI and Django admin work in Chromium under the CSP, with
no violation reported on the console."""

from __future__ import annotations

import pytest
from django.db import connections

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

PAGES = ["/", "/convert/", "/conversions/", "/models/", "/devices/", "/devices/pair/"]
# DRF's browsable API, as a browser sees /api/.
PAGES += ["/api/models/", "/api/system/info"]


@pytest.fixture
def staff_page(browser, live_server, sandbox, make_user, password):
    make_user("operator", is_staff=True, is_superuser=True)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.violations = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            page.violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    yield page
    connections.close_all()
    context.close()


def test_the_pages_run_under_the_policy(staff_page, live_server):
    for path in PAGES:
        response = staff_page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        staff_page.wait_for_load_state("load")
    assert staff_page.violations == []


def test_swagger_ui_renders_under_the_policy(staff_page, live_server):
    staff_page.goto(f"{live_server.url}/api/docs/")
    # Rendered by the scripts: the document's title and its operations appear.
    staff_page.wait_for_selector(".swagger-ui .info .title")
    staff_page.wait_for_selector(".opblock")
    assert staff_page.violations == []


def test_django_admin_works_under_the_policy(staff_page, live_server):
    staff_page.goto(f"{live_server.url}/admin/")
    staff_page.wait_for_selector("#content")
    staff_page.goto(f"{live_server.url}/admin/devices/device/")
    staff_page.wait_for_selector("#changelist")
    assert staff_page.violations == []


def test_signing_out_is_allowed_by_form_action(staff_page, live_server):
    staff_page.click(".user-menu summary")
    staff_page.click("form[action='/accounts/logout/'] button")
    # Home, which sends the signed-out visitor on to sign in.
    staff_page.wait_for_url(f"{live_server.url}/accounts/login/?next=/")
    assert staff_page.violations == []
