"""Local accounts: passwords for development; with OIDC configured, staff only."""

import pytest

pytestmark = pytest.mark.django_db


def post_login(client, user, password):
    return client.post("/accounts/login/", {"username": user.username, "password": password})


def test_a_local_account_signs_in_without_oidc(client, alice, password):
    response = post_login(client, alice, password)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_refused(client, alice):
    response = post_login(client, alice, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_the_page_sends_the_visitor_back_where_they_were(client, alice, password):
    response = client.post(
        "/accounts/login/?next=/api/system/health",
        {"username": alice.username, "password": password, "next": "/api/system/health"},
    )
    assert response["Location"] == "/api/system/health"


def test_it_does_not_redirect_off_site(client, alice, password):
    response = client.post(
        "/accounts/login/",
        {"username": alice.username, "password": password, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


class TestWithOidcConfigured:
    @pytest.fixture(autouse=True)
    def _oidc(self, settings):
        settings.OIDC_ENABLED = True
        settings.OIDC_OP_ISSUER = "http://127.0.0.1:9"
        settings.OIDC_RP_CLIENT_ID = "visiona-web"

    def test_a_regular_user_cannot_use_a_password(self, client, alice, password):
        post_login(client, alice, password)
        assert "_auth_user_id" not in client.session

    def test_staff_can_use_a_password_for_admin(self, client, make_user, password):
        admin = make_user("root", is_staff=True, is_superuser=True)
        response = client.post(
            "/admin/login/?next=/admin/", {"username": admin.username, "password": password}
        )
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200

    def test_the_page_offers_member_center(self, client):
        response = client.get("/accounts/login/")
        assert b"Sign in with Member Center" in response.content
        assert b'name="password"' not in response.content


def test_sign_out_needs_post(alice_client):
    assert alice_client.get("/accounts/logout/").status_code == 405
    response = alice_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert alice_client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("language", "said"), [("en", "You are signed out."), ("zh-hant", "您已登出。")]
)
def test_signing_out_says_so_on_the_next_page(alice_client, language, said):
    page = alice_client.post("/accounts/logout/", follow=True, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    assert said in page.content.decode()
    assert "_auth_user_id" not in alice_client.session
