"""Password sign-in locks out a client address after repeated failures: for one
account (per account and address), or over any accounts (per address). Never an
account from everywhere: a stranger's guesses would lock its owner out."""

from datetime import timedelta

import pytest
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib.auth.signals import user_login_failed
from django.test import Client, RequestFactory

from visiona.auth.lockout import lockout_parameters

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def sign_in(client, username, password, address="198.51.100.1", path="/accounts/login/", **extra):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, alice, password):
    statuses = [sign_in(client, "alice", f"guess-{n}").status_code for n in range(30)]
    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form, "wrong password"
    assert set(statuses[LIMIT - 1 :]) == {429}
    response = sign_in(client, "alice", password)
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_a_stranger_cannot_lock_the_owner_out_from_another_address(client, alice, password):
    for n in range(LIMIT):
        sign_in(client, "alice", f"guess-{n}", address="198.51.100.1")
    # The stranger's address is locked out of the account, even with its password...
    assert sign_in(Client(), "alice", password, address="198.51.100.1").status_code == 429
    # ...its owner, elsewhere, is not.
    owner = Client()
    assert sign_in(owner, "alice", password, address="203.0.113.9").status_code == 302
    assert owner.get("/").status_code == 200


def test_guesses_at_one_account_count_per_account_and_address(client, alice, password):
    # Below the limit from each address: neither address, nor the account, is locked.
    for n in range(LIMIT - 1):
        sign_in(client, "alice", f"guess-{n}", address="198.51.100.1")
        sign_in(client, "alice", f"guess-{n}", address="198.51.100.2")
    assert AxesProxyHandler.is_allowed(
        RequestFactory().post("/accounts/login/", REMOTE_ADDR="198.51.100.1"),
        {"username": "alice"},
    )
    # One more from the first: that address is locked out, the other is not.
    sign_in(client, "alice", "guess-last", address="198.51.100.1")
    assert sign_in(Client(), "alice", "x", address="198.51.100.1").status_code == 429
    assert sign_in(Client(), "alice", password, address="198.51.100.2").status_code == 302
    counters = {
        (attempt.username, attempt.ip_address): attempt.failures_since_start
        for attempt in AccessAttempt.objects.all()
    }
    assert counters == {("alice", "198.51.100.1"): LIMIT, ("alice", "198.51.100.2"): LIMIT - 1}


def test_the_lockout_counts_per_account_and_address_and_per_address(rf):
    request = rf.post("/accounts/login/")
    assert lockout_parameters(request, {"username": "alice"}) == [
        ["username", "ip_address"],
        "ip_address",
    ]
    assert lockout_parameters(request, {"nonce": "x"}) == ["ip_address"]


def test_another_account_from_another_address_still_signs_in(client, alice, bob, password):
    for n in range(LIMIT):
        sign_in(client, "alice", f"guess-{n}")
    other = Client()
    assert sign_in(other, "bob", password, address="203.0.113.9").status_code == 302
    assert other.get("/").status_code == 200


def test_one_client_is_locked_out_across_accounts(client, make_user, alice, password):
    for n in range(LIMIT):
        sign_in(client, f"someone-{n}", "guess")
    # Even a right password for an account it never tried.
    assert sign_in(client, "alice", password).status_code == 429
    assert sign_in(Client(), "alice", password, address="203.0.113.9").status_code == 302


def test_unknown_and_existing_accounts_lock_out_alike(client, alice):
    for n in range(LIMIT):
        sign_in(client, "alice", f"guess-{n}", address="203.0.113.1")
        sign_in(client, "nobody", f"guess-{n}", address="203.0.113.2")
    known = sign_in(Client(), "alice", "x", address="203.0.113.1")
    unknown = sign_in(Client(), "nobody", "x", address="203.0.113.2")
    assert known.status_code == unknown.status_code == 429
    assert _message(known) == _message(unknown)


def _message(response) -> str:
    page = response.content.decode()
    return page[page.index("<main") : page.index("</main>")]


def test_behind_a_trusted_proxy_it_locks_out_the_forwarded_client(
    client, settings, alice, password
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    def via_proxy(username, secret, forwarded_for):
        return sign_in(
            Client(), username, secret, address="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for
        )

    for n in range(LIMIT):
        via_proxy(f"someone-{n}", "guess", "198.51.100.7")
    assert via_proxy("alice", password, "198.51.100.7").status_code == 429
    # Everyone else behind the same proxy still signs in.
    assert via_proxy("alice", password, "198.51.100.8").status_code == 302


def test_an_untrusted_sender_cannot_pick_its_address(client, alice, password):
    for n in range(LIMIT):
        sign_in(client, f"someone-{n}", "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert (
        sign_in(client, "alice", password, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
    )


def test_the_lockout_ends_after_the_cool_off(client, alice, password, settings):
    for n in range(LIMIT):
        sign_in(client, "alice", f"guess-{n}")
    assert sign_in(client, "alice", password).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(hours=1)
    )
    assert sign_in(client, "alice", password).status_code == 302


def test_django_admin_sign_in_shows_the_lockout_page(client, make_user, password):
    make_user("root", is_staff=True, is_superuser=True)
    for n in range(LIMIT):
        sign_in(client, "root", f"guess-{n}", path="/admin/login/?next=/admin/")
    response = sign_in(client, "root", password, path="/admin/login/?next=/admin/")
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content


def test_the_lockout_page_is_translated(client, alice):
    for n in range(LIMIT):
        sign_in(client, "alice", f"guess-{n}")
    response = sign_in(client, "alice", "x", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert response.status_code == 429
    assert "登入失敗次數過多".encode() in response.content


def test_failed_member_center_callbacks_lock_out_only_their_client(rf):
    def callback(address):
        return rf.get("/oidc/callback/", REMOTE_ADDR=address)

    # An OIDC failure names no account; many clients failing must not add up.
    for n in range(LIMIT):
        user_login_failed.send(
            __name__, credentials={"nonce": "x"}, request=callback(f"192.0.2.{n}")
        )
    assert AxesProxyHandler.is_allowed(callback("203.0.113.5"), {"nonce": "y"})
    for _ in range(LIMIT):
        user_login_failed.send(
            __name__, credentials={"nonce": "x"}, request=callback("192.0.2.200")
        )
    assert not AxesProxyHandler.is_allowed(callback("192.0.2.200"), {"nonce": "y"})
