"""The chip a NEF's header names (visiona_client.nef.chip_in_nef): a Kneron-compiled
NEF's ``NEFHeader.target``, read as Kneron PLUS reads it (visiona_client.kneron_nef),
and the sandbox stand-in's header line."""

from __future__ import annotations

import io
import random

import pytest
from visiona_client.nef import TrailingCrc, chip_in_nef

from tests.kneron_nef_bytes import kneron_nef

CHIPS_FROM_ONE = {1: "KL520", 2: "KL720", 3: "KL530", 4: "KL730", 5: "KL630", 6: "KL540"}


def chip_of(data: bytes) -> str | None:
    return chip_in_nef(io.BytesIO(data))


def test_the_built_files_are_whole_nefs():
    check = TrailingCrc()
    check.feed(kneron_nef(target=2))
    assert check.matches()


@pytest.mark.parametrize("schema", [(2, 2, 1), (2, 2, 5), (3, 4, 1)])
@pytest.mark.parametrize(("target", "chip"), CHIPS_FROM_ONE.items())
def test_from_schema_2_2_1_the_target_counts_from_one(schema, target, chip):
    assert chip_of(kneron_nef(target=target, schema=schema)) == chip


@pytest.mark.parametrize("schema", [(0, 0, 0), (1, 9, 1), (2, 2, 0), (None, None, None)])
@pytest.mark.parametrize(("target", "chip"), CHIPS_FROM_ONE.items())
def test_before_it_the_target_counts_from_zero(schema, target, chip):
    assert chip_of(kneron_nef(target=target - 1, schema=schema)) == chip


def test_an_absent_target_is_a_kl520_in_old_files_and_unknown_in_new_ones():
    # The field's default is 0: KL520 before 2.2.1, "unknown" from it on.
    assert chip_of(kneron_nef(target=None, schema=(0, 0, 0))) == "KL520"
    assert chip_of(kneron_nef(target=None, schema=(2, 2, 1))) is None
    assert chip_of(kneron_nef(target=0, schema=(2, 2, 1))) is None


@pytest.mark.parametrize("schema", [(2, 3, 0), (3, 0, 0), (3, 1, 0)])
def test_a_version_kneron_plus_would_read_the_old_way_names_no_chip(schema):
    # Later than 2.2.1, yet Kneron PLUS's test (each part at least 2, 2, 1) says older:
    # the two readings disagree, so no guess.
    assert chip_of(kneron_nef(target=2, schema=schema)) is None


@pytest.mark.parametrize("target", [7, 99, -1, -5])
def test_a_target_outside_the_known_chips_names_none(target):
    assert chip_of(kneron_nef(target=target)) is None


def test_the_header_is_read_wherever_it_is():
    assert chip_of(kneron_nef(target=5, body=bytes(range(256)) * 400)) == "KL630"


@pytest.mark.parametrize(
    "data",
    [
        kneron_nef(target=2, schema=None),  # Kneron PLUS refuses it as an invalid model
        kneron_nef(target=2, with_header=False),
        kneron_nef(target=2, magic=1),
        b"",
        b"\x00\x00\x00",
        b"\xff" * 64,
    ],
)
def test_what_is_not_a_kneron_nef_names_no_chip(data):
    assert chip_of(data) is None


def test_the_content_magic_when_written_is_accepted():
    assert chip_of(kneron_nef(target=2, magic=19840308)) == "KL720"


@pytest.mark.parametrize("seed", range(10))
def test_cut_or_damaged_files_never_raise(seed):
    rng = random.Random(seed)
    data = bytearray(kneron_nef(target=rng.randint(0, 6), body=rng.randbytes(rng.randint(0, 300))))
    for cut in range(len(data)):
        assert chip_of(bytes(data[:cut])) in {None, *CHIPS_FROM_ONE.values()}
    for _ in range(200):
        damaged = bytearray(data)
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        assert chip_of(bytes(damaged)) in {None, *CHIPS_FROM_ONE.values()}
    assert chip_of(rng.randbytes(len(data))) in {None, *CHIPS_FROM_ONE.values()}


def test_the_sandbox_stand_ins_header_line_is_still_read():
    assert chip_of(b'VISIONA-SANDBOX-NEF\n{"platform": "730"}\nrest') == "KL730"
    assert chip_of(b"VISIONA-SANDBOX-NEF\nnot json\n") is None


def test_the_file_is_left_at_its_start():
    file = io.BytesIO(kneron_nef(target=2, body=b"x" * 5000))
    file.seek(100)
    assert chip_in_nef(file) == "KL720"
    assert file.tell() == 0
