"""The NEF's trailing CRC-32, checked as an upload streams through (models_repo/nef.py)."""

from __future__ import annotations

import random
import zlib

import pytest

from models_repo.nef import TrailingCrc, checked_chunks
from visiona.errors import ValidationFailed

from .conftest import nef_bytes


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
    data = nef_bytes(rng.randint(5, 50_000), seed=seed)
    sizes = [rng.choice([0, 1, 2, 3, 4, 5, 7, 4096]) for _ in range(rng.randint(0, 30))]
    assert _feed(data, sizes).matches()
    position = rng.randrange(len(data))
    broken = bytearray(data)
    broken[position] ^= 1 << rng.randrange(8)
    assert not _feed(bytes(broken), sizes).matches()


def test_the_crc_is_zlibs_over_all_but_the_last_four_bytes():
    body = b"kneron" * 1000
    check = TrailingCrc()
    check.feed(body + zlib.crc32(body).to_bytes(4, "big"))
    assert check.matches()
    little_endian = TrailingCrc()
    little_endian.feed(body + zlib.crc32(body).to_bytes(4, "little"))
    assert not little_endian.matches()


@pytest.mark.parametrize("data", [b"", b"abc", b"\x00\x00\x00"])
def test_fewer_than_four_bytes_never_match(data):
    check = TrailingCrc()
    check.feed(data)
    assert not check.matches()


def test_checked_chunks_passes_every_chunk_then_refuses_a_bad_end():
    good = nef_bytes(10_000)
    assert b"".join(checked_chunks([good[:3000], good[3000:]])) == good
    seen = []
    with pytest.raises(ValidationFailed) as refused:
        for chunk in checked_chunks([good[:3000], good[3000:-1] + b"\x00"]):
            seen.append(chunk)
    assert len(seen) == 2  # refused only after the last chunk went through
    assert refused.value.details["fields"][0]["field"] == "file"


@pytest.mark.django_db
def test_a_damaged_nef_is_refused_in_the_users_language(alice_api, nef_file, models_folder):
    data = nef_bytes(5_000)[:-1] + b"\x00"
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("detector.nef", data), "chips": ["KL520"]},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="zh-hant",
    )
    assert response.status_code == 400
    field = response.json()["error"]["details"]["fields"][0]
    assert field["field"] == "file"
    assert "檢查碼不符" in field["message"]
