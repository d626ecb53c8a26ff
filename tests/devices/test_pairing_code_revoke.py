"""Waiting pairing codes: listed with their expiry on the pair page, revocable by their
owner (page and API), so the limit of waiting codes never traps anyone."""

import pytest
from django.utils import timezone

from devices import services
from devices.errors import PairingCodeAlreadyUsed, PairingCodeInvalid, TooManyPairingCodes
from devices.models import PairingCode

pytestmark = pytest.mark.django_db


def api_url(code) -> str:
    return f"/api/devices/pairing-codes/{code.pairing_code.public_id}/revoke"


def page_url(code) -> str:
    return f"/devices/pair/codes/{code.pairing_code.public_id}/revoke/"


# --- service ---------------------------------------------------------------------------


def test_a_revoked_code_pairs_nothing(alice, issue_code, pair):
    issued = issue_code(alice)
    services.pairing_code_revoke(pairing_code=issued.pairing_code)
    assert issued.pairing_code.expires_at <= timezone.now()
    with pytest.raises(PairingCodeInvalid):
        pair(issued.code)


def test_revoking_frees_a_place_under_the_limit(alice, issue_code, settings):
    settings.DEVICE_PAIRING_MAX_ACTIVE_CODES = 2
    first, _second = issue_code(alice), issue_code(alice)
    with pytest.raises(TooManyPairingCodes):
        issue_code(alice)
    services.pairing_code_revoke(pairing_code=first.pairing_code)
    assert issue_code(alice).pairing_code.status() == "pending"


def test_a_used_code_cannot_be_revoked(alice, issue_code, pair):
    issued = issue_code(alice)
    pair(issued.code)
    with pytest.raises(PairingCodeAlreadyUsed):
        services.pairing_code_revoke(pairing_code=issued.pairing_code)
    assert PairingCode.objects.get().used_at is not None


def test_revoking_an_expired_code_changes_nothing(alice, issue_code):
    issued = issue_code(alice)
    earlier = timezone.now() - timezone.timedelta(minutes=1)
    PairingCode.objects.update(expires_at=earlier)
    services.pairing_code_revoke(pairing_code=PairingCode.objects.get())
    assert PairingCode.objects.get().expires_at == earlier
    assert issued.pairing_code.pk == PairingCode.objects.get().pk


# --- API -------------------------------------------------------------------------------


def test_the_owner_revokes_through_the_api(alice, alice_client, issue_code):
    issued = issue_code(alice)
    response = alice_client.post(api_url(issued))
    assert response.status_code == 200
    assert response.json()["status"] == "expired"
    assert "code" not in response.json()


def test_another_users_code_is_not_found_and_stays_live(alice, bob_client, issue_code):
    issued = issue_code(alice)
    response = bob_client.post(api_url(issued))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "pairing_code_not_found"
    assert PairingCode.objects.get().status() == "pending"


def test_signed_out_the_api_answers_401(client, alice, issue_code):
    response = client.post(api_url(issue_code(alice)))
    assert response.status_code == 401
    assert PairingCode.objects.get().status() == "pending"


def test_a_used_code_answers_409(alice, alice_client, issue_code, pair):
    issued = issue_code(alice)
    pair(issued.code)
    response = alice_client.post(api_url(issued))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pairing_code_used"


# --- page ------------------------------------------------------------------------------


def test_the_pair_page_lists_waiting_codes_with_expiry_and_revoke(
    alice, alice_client, bob, issue_code, pair
):
    waiting = issue_code(alice)
    pair(issue_code(alice).code)  # used: not listed
    issue_code(bob)  # someone else's: not listed
    content = alice_client.get("/devices/pair/").content.decode()
    assert content.count("data-pairing-code=") == 1
    assert f'data-pairing-code="{waiting.pairing_code.public_id}"' in content
    assert page_url(waiting) in content
    assert waiting.code not in content  # a code is shown once, never in the list


def test_at_the_limit_the_page_offers_the_codes_to_revoke(
    alice, alice_client, issue_code, settings
):
    settings.DEVICE_PAIRING_MAX_ACTIVE_CODES = 1
    waiting = issue_code(alice)
    response = alice_client.post("/devices/pair/")
    assert response.status_code == 429
    assert page_url(waiting) in response.content.decode()
    revoked = alice_client.post(page_url(waiting))
    assert revoked.status_code == 302 and revoked["Location"] == "/devices/pair/"
    assert alice_client.post("/devices/pair/").status_code == 200  # a new code


def test_the_page_cannot_revoke_another_users_code(alice, bob_client, issue_code):
    issued = issue_code(alice)
    assert bob_client.post(page_url(issued)).status_code == 404
    assert PairingCode.objects.get().status() == "pending"


def test_signed_out_the_page_sends_to_sign_in(client, alice, issue_code):
    response = client.post(page_url(issue_code(alice)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert PairingCode.objects.get().status() == "pending"


def test_the_page_says_when_the_code_was_already_used(alice, alice_client, issue_code, pair):
    issued = issue_code(alice)
    pair(issued.code)
    response = alice_client.post(page_url(issued), follow=True)
    assert "already paired a device" in response.content.decode()
