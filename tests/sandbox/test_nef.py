"""The sandbox's fake NEF: a readable header and a CRC-32 trailer."""

from __future__ import annotations

import zlib

import pytest

from sandbox import nef


def make(**fields) -> bytes:
    return nef.build(platform="720", job_id="job-1", model_sha256="ab" * 32, **fields)


def test_it_reads_back_what_it_wrote():
    data = make()
    assert data.startswith(b"VISIONA-SANDBOX-NEF\n")
    assert nef.parse(data) == {
        "format": "nef",
        "platform": "720",
        "job_id": "job-1",
        "source_model_sha256": "ab" * 32,
        "note": "not a real NEF: produced by the visionA sandbox converter",
        "model": None,
        "model_missing": "the sandbox made no model for this job",
    }
    assert int.from_bytes(data[-4:], "big") == zlib.crc32(data[:-4])


def test_it_is_the_same_file_every_time():
    assert make() == make()


def test_it_notices_damage():
    data = bytearray(make())
    data[100] ^= 0xFF
    with pytest.raises(ValueError, match="CRC-32"):
        nef.parse(bytes(data))


@pytest.mark.parametrize("data", [b"", b"NEF", b"\x00" * 64])
def test_it_refuses_what_is_not_a_sandbox_nef(data):
    with pytest.raises(ValueError, match="not a sandbox NEF"):
        nef.parse(data)


def test_a_bie_is_not_a_nef():
    bie = make(kind="bie")
    assert nef.parse(bie, kind="bie")["format"] == "bie"
    with pytest.raises(ValueError):
        nef.parse(bie)


def test_it_carries_a_model_with_its_checksum():
    data = make(model=b"int8 onnx bytes", quantization={"method": "m"})
    header = nef.parse(data)
    assert header["model"]["bytes"] == len(b"int8 onnx bytes")
    assert header["model"]["quantization"] == {"method": "m"}
    assert nef.carried_model(data) == b"int8 onnx bytes"
    assert nef.carried_model(make()) is None
