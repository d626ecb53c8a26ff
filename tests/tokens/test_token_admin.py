"""Admin: tokens listed without their secret or hash; any staff member revokes any."""

from __future__ import annotations

import pytest

from tokens.models import PersonalToken

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tokens/personaltoken/"


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("operator", is_staff=True))  # staff, no model permissions
    return client


def test_the_list_shows_no_secret(staff_client, alice, make_token):
    issued = make_token(alice, name="ci-runner")
    html = staff_client.get(CHANGELIST).content.decode()
    assert "ci-runner" in html
    assert issued.secret not in html
    assert issued.token.token_hash not in html
    detail = staff_client.get(f"{CHANGELIST}{issued.token.pk}/change/").content.decode()
    assert issued.token.token_hash not in detail and issued.secret not in detail


def test_staff_revoke_anyones_token(staff_client, alice, bob, make_token):
    tokens = [make_token(alice).token, make_token(bob).token]
    response = staff_client.post(
        CHANGELIST,
        {"action": "revoke", "_selected_action": [str(t.pk) for t in tokens]},
    )
    assert response.status_code == 302
    assert not PersonalToken.objects.filter(revoked_at__isnull=True).exists()


def test_no_one_adds_tokens_in_the_admin(staff_client):
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403


def test_non_staff_cannot_see_the_list(alice_client):
    assert alice_client.get(CHANGELIST).status_code == 302
