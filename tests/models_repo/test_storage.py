"""Model files are written in chunks and hashed on the way; failures leave nothing."""

import hashlib

import pytest
from django.core.files.storage import default_storage

from models_repo.storage import FileTooLarge, model_file_name, store_stream


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def chunks(total: int, size: int = 64 * 1024):
    block = bytes(range(256)) * (size // 256)
    sent = 0
    while sent < total:
        piece = block[: min(size, total - sent)]
        sent += len(piece)
        yield piece


def test_it_stores_the_bytes_and_their_hash():
    data = b"".join(chunks(1_000_003))
    name, size, sha256 = store_stream("models/1/a/m.nef", chunks(1_000_003))
    assert size == len(data)
    assert sha256 == hashlib.sha256(data).hexdigest()
    with default_storage.open(name) as stored:
        assert stored.read() == data


def test_an_oversized_stream_leaves_nothing():
    with pytest.raises(FileTooLarge):
        store_stream("models/1/b/m.nef", chunks(300_000), max_bytes=200_000)
    assert not default_storage.exists("models/1/b/m.nef")


def test_a_failing_stream_leaves_nothing():
    def broken():
        yield b"x" * 100_000
        raise ConnectionError("upstream went away")

    with pytest.raises(ConnectionError):
        store_stream("models/1/c/m.nef", broken())
    assert not default_storage.exists("models/1/c/m.nef")


def test_names_are_fresh_and_keep_the_file_name():
    first = model_file_name(owner_id=7, filename="yolo v5.nef")
    second = model_file_name(owner_id=7, filename="yolo v5.nef")
    assert first != second
    assert first.startswith("models/7/") and first.endswith("/yolo_v5.nef")
    assert model_file_name(owner_id=7, filename="../../etc").endswith("/etc")
