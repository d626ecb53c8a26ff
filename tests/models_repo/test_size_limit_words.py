"""A size limit reads as the convert page writes one: "500 MB", not "500.0 MB"; on the
upload page and in the refusal of a file over it."""

from __future__ import annotations

import pytest
from django.utils import translation

from models_repo.errors import ModelFileTooLarge
from visiona.sizes import size_limit

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (500 * MIB, "500\xa0MB"),
        (10 * MIB, "10\xa0MB"),
        (2 * 1024 * MIB, "2\xa0GB"),
        (1536 * MIB, "1.5\xa0GB"),  # not round: its decimal stays
        (100, "100\xa0bytes"),
    ],
)
def test_a_round_limit_has_no_decimal(size, words):
    assert size_limit(size) == words


def test_the_upload_page_and_the_refusal_say_500_mb(alice_client, settings):
    settings.MODELS_MAX_UPLOAD_BYTES = 500 * MIB
    html = alice_client.get("/models/upload/").content.decode()
    assert "up to 500\xa0MB." in html and "500.0" not in html
    assert ModelFileTooLarge(limit_bytes=500 * MIB).message == (
        "The file is larger than the limit of 500\xa0MB."
    )
    with translation.override("zh-hant"):
        assert "500\xa0MB" in ModelFileTooLarge(limit_bytes=500 * MIB).message
