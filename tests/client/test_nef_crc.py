"""The NEF's trailing CRC-32 (visiona_client.nef): the agent's check before it installs
a model, and My models' on upload."""

from __future__ import annotations

import random
import zlib

import pytest
from visiona_client.nef import TrailingCrc

from tests.client.fake_visiona import nef_bytes


def _feed(data: bytes, sizes: list[int]) -> TrailingCrc:
    check, start = TrailingCrc(), 0
    for size in sizes:
        check.feed(data[start : start + size])
        start += size
    check.feed(data[start:])
    return check


@pytest.mark.parametrize("seed", range(20))
def test_any_split_of_a_good_nef_matches_and_any_flipped_bit_does_not(seed):
    rng = random.Random(seed)
    data = nef_bytes(rng.randint(5, 50_000), seed=str(seed))
    sizes = [rng.choice([0, 1, 2, 3, 4, 5, 7, 4096]) for _ in range(rng.randint(0, 30))]
    assert _feed(data, sizes).matches()
    position = rng.randrange(len(data))
    broken = bytearray(data)
    broken[position] ^= 1 << rng.randrange(8)
    assert not _feed(bytes(broken), sizes).matches()


@pytest.mark.parametrize("order", ["big", "little"])
def test_the_crc_is_zlibs_over_all_but_the_last_four_bytes_in_either_order(order):
    body = b"kneron" * 1000
    check = TrailingCrc()
    check.feed(body + zlib.crc32(body).to_bytes(4, order))
    assert check.matches()
    wrong = TrailingCrc()
    wrong.feed(body + (zlib.crc32(body) ^ 1).to_bytes(4, order))
    assert not wrong.matches()


@pytest.mark.parametrize("data", [b"", b"abc", b"\x00\x00\x00"])
def test_fewer_than_four_bytes_never_match(data):
    check = TrailingCrc()
    check.feed(data)
    assert not check.matches()
