"""A refused form (CSRF) gets the site's own page, in the user's language, with a way
back; the API keeps its csrf_failed envelope."""

import json

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from visiona.views import csrf_failure

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(alice) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


def test_a_form_without_its_token_gets_the_sites_page_with_a_way_back(strict, settings):
    settings.DEBUG = False
    response = strict.post("/devices/pair/", HTTP_REFERER="http://testserver/devices/pair/")
    content = response.content.decode()
    assert response.status_code == 403
    assert 'class="site-header"' in content and 'class="main-nav"' in content  # the frame
    assert "This form could not be sent" in content
    assert 'id="error-back" href="http://testserver/devices/pair/"' in content
    assert "DEBUG" not in content and "CSRF verification failed" not in content


def test_it_speaks_the_users_language(strict):
    strict.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    content = strict.post("/devices/pair/").content.decode()
    assert "無法送出這份表單" in content
    assert "請返回並重新載入頁面" in content


def test_the_way_back_never_leads_off_the_site(strict):
    content = strict.post("/devices/pair/", HTTP_REFERER="https://evil.example/form").content
    assert b"evil.example" not in content
    assert b'id="error-back"' not in content
    assert b'href="/"' in content  # the home page is still a way on


def test_the_sign_in_form_gets_it_too(client):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "This form could not be sent" in response.content.decode()


def test_under_api_it_is_the_envelope():
    request = RequestFactory().post("/api/anything")
    response = csrf_failure(request, reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    error = json.loads(response.content)["error"]
    assert error["code"] == "csrf_failed"
    assert error["details"] == {"reason": "CSRF cookie not set."}


def test_the_api_still_answers_its_own_envelope(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/api/devices/pairing-codes")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
