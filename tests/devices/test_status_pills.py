"""Status pills draw one dot (the stylesheet's), never a glyph beside it."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_status_pill_has_no_dot_of_its_own(alice, alice_client, issue_code, pair):
    device = pair(issue_code(alice).code, name="Desk").device
    for path in ("/devices/", f"/devices/{device.pk}/"):
        content = alice_client.get(path).content.decode()
        assert '<span class="status status-offline">Offline</span>' in content, path
        assert "●" not in content and "○" not in content, path  # the CSS draws the dot
