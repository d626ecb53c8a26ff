"""The converter's upload limits are stated once (conversion/limits.py): the largest
upload visionA reads and the sandbox converter's limits follow from them."""

from __future__ import annotations

import pytest

from conversion import limits
from sandbox.uploads import Limits
from tests.conversion.test_api_init import CONTENT_TYPE

pytestmark = pytest.mark.django_db


def test_the_largest_upload_follows_from_the_converters_limits(settings):
    settings.CONVERSION_MAX_UPLOAD_BYTES = 0  # the default
    expected = 500 * limits.MIB + 100 * 10 * limits.MIB + 16 * limits.MIB
    assert limits.max_upload_bytes() == limits.MAX_UPLOAD_BYTES == expected


def test_the_setting_still_overrides_it(settings):
    settings.CONVERSION_MAX_UPLOAD_BYTES = 1234
    assert limits.max_upload_bytes() == 1234


def test_the_init_api_refuses_one_byte_past_the_derived_limit(alice_client, settings, upstream):
    settings.CONVERSION_MAX_UPLOAD_BYTES = 0
    response = alice_client.generic(
        "POST",
        "/api/conversion/init",
        b"",
        content_type=CONTENT_TYPE,
        CONTENT_LENGTH=str(limits.MAX_UPLOAD_BYTES + 1),
    )
    assert response.status_code == 413
    assert response.json()["error"]["details"]["limit_bytes"] == limits.MAX_UPLOAD_BYTES
    assert not upstream.calls


def test_the_sandbox_converter_enforces_the_same_limits():
    assert Limits.from_settings() == Limits(
        model_bytes=limits.MAX_MODEL_BYTES,
        image_bytes=limits.MAX_IMAGE_BYTES,
        images=limits.MAX_IMAGES,
    )


def test_a_test_can_still_shrink_the_sandboxs(settings):
    settings.SANDBOX_MAX_IMAGES = 3
    assert Limits.from_settings().images == 3
