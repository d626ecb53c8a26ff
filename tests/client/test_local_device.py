"""Which dongle ``pair`` pairs as: the only one attached, or the one the flags name."""

from __future__ import annotations

import pytest
from visiona_client.local_device import Dongle, LocalDeviceError, dongles, pick_dongle

TWO = {
    "dongles": [
        {"chip": "KL520", "serial": "A-1"},
        {"chip": "KL720", "serial": "B-2"},
        {"chip": "KL720"},  # no serial: not a dongle it can pair as
    ]
}


def test_the_only_dongle_is_taken():
    assert pick_dongle(dongles({"dongles": TWO["dongles"][:1]}), serial=None, chip=None) == Dongle(
        "KL520", "A-1"
    )


def test_none_attached_is_a_clear_error():
    with pytest.raises(LocalDeviceError, match="no attached dongle"):
        pick_dongle(dongles({"dongles": []}), serial=None, chip=None)


def test_several_attached_ask_for_a_serial():
    with pytest.raises(LocalDeviceError, match=r"several dongles are attached \(A-1 \(KL520\)"):
        pick_dongle(dongles(TWO), serial=None, chip=None)


def test_a_serial_or_a_chip_picks_one_of_several():
    assert pick_dongle(dongles(TWO), serial="B-2", chip=None) == Dongle("KL720", "B-2")
    assert pick_dongle(dongles(TWO), serial=None, chip="kl520") == Dongle("KL520", "A-1")


def test_a_serial_that_is_not_attached_says_what_is():
    with pytest.raises(LocalDeviceError, match="no attached dongle matches; attached: A-1"):
        pick_dongle(dongles(TWO), serial="Z-9", chip=None)


def test_both_flags_need_no_local_api():
    assert pick_dongle([], serial="S", chip="KL630") == Dongle("KL630", "S")
