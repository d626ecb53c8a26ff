"""Home promises only what exists, and keeps a marked place for deploying."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_promises_no_deploying_yet(alice_client):
    content = alice_client.get("/").content.decode().lower()
    assert "deploy" not in content
    assert "download them" in content


def test_home_keeps_a_marked_place_for_deploying():
    from pathlib import Path

    from django.conf import settings

    template = (Path(settings.BASE_DIR) / "templates" / "home.html").read_text()
    assert "{% block home_deploy %}" in template
    assert "DEPLOY:" in template  # the note saying what goes there
