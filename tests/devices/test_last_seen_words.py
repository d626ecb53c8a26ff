"""Last seen, in words: "just now" under a minute (never "0 minutes ago"), then how long
ago, in the user's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from devices.models import Device
from visiona.templatetags.local_time import time_ago

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("seconds", "english", "chinese"),
    [
        (0, "just now", "剛剛"),
        (59, "just now", "剛剛"),
        (-5, "just now", "剛剛"),  # a clock a little ahead: not "0 minutes"
        (60, "1\xa0minute ago", "1\xa0分前"),
        (3 * 3600, "3\xa0hours ago", "3\xa0小時前"),
    ],
)
def test_time_ago(seconds, english, chinese):
    moment = timezone.now() - timedelta(seconds=seconds)
    assert time_ago(moment) == english
    with translation.override("zh-hant"):
        assert time_ago(moment) == chinese


def test_the_device_list_says_just_now(alice_client, alice_device):
    Device.objects.filter(pk=alice_device.device.pk).update(last_seen_at=timezone.now())
    html = alice_client.get("/devices/").content.decode()
    assert ">just now</time>" in html
    assert "0\xa0minutes" not in html
