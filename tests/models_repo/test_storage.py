"""Model files are written in chunks and hashed on the way; failures leave nothing."""

import hashlib

import pytest

from models_repo.storage import FileTooLarge, model_file_name, models_storage, store_stream
from tests.s3_stand_in import MODELS_S3_BACKEND, use_bucket_for_models


def chunks(total: int, size: int = 64 * 1024):
    block = bytes(range(256)) * (size // 256)
    sent = 0
    while sent < total:
        piece = block[: min(size, total - sent)]
        sent += len(piece)
        yield piece


def test_it_stores_the_bytes_and_their_hash(models_folder):
    data = b"".join(chunks(1_000_003))
    name, size, sha256 = store_stream("1/a/m.nef", chunks(1_000_003))
    assert size == len(data)
    assert sha256 == hashlib.sha256(data).hexdigest()
    with models_storage.open(name) as stored:
        assert stored.read() == data
    # The "models" storage, not the default one.
    assert (models_folder / name).read_bytes() == data


def test_an_oversized_stream_leaves_nothing():
    with pytest.raises(FileTooLarge):
        store_stream("1/b/m.nef", chunks(300_000), max_bytes=200_000)
    assert not models_storage.exists("1/b/m.nef")


def test_a_failing_stream_leaves_nothing():
    def broken():
        yield b"x" * 100_000
        raise ConnectionError("upstream went away")

    with pytest.raises(ConnectionError):
        store_stream("1/c/m.nef", broken())
    assert not models_storage.exists("1/c/m.nef")


def test_names_are_fresh_and_keep_the_file_name():
    first = model_file_name(owner_id=7, filename="yolo v5.nef")
    second = model_file_name(owner_id=7, filename="yolo v5.nef")
    assert first != second
    assert first.startswith("7/") and first.endswith("/yolo_v5.nef")
    assert model_file_name(owner_id=7, filename="../../etc").endswith("/etc")


def test_s3_is_chosen_by_configuration(monkeypatch):
    import importlib

    # The storage's settings are built in visiona/settings/web.py from services.py's.
    from visiona.settings import services as real_services
    from visiona.settings import web as real_settings

    monkeypatch.setenv("MODELS_STORAGE_S3_BUCKET", "visiona-models")
    monkeypatch.setenv("MODELS_STORAGE_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("MODELS_STORAGE_S3_PUBLIC_ENDPOINT_URL", "https://files.example.com/")
    monkeypatch.setenv("MODELS_STORAGE_S3_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("MODELS_STORAGE_S3_SECRET_ACCESS_KEY", "example-secret-key-example-00")
    try:
        importlib.reload(real_services)
        configured = importlib.reload(real_settings)
        models = configured.STORAGES["models"]
        assert models["BACKEND"] == MODELS_S3_BACKEND
        assert models["OPTIONS"]["bucket_name"] == "visiona-models"
        assert models["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
        assert models["OPTIONS"]["public_endpoint_url"] == "https://files.example.com"
        from django.utils.module_loading import import_string

        storage = import_string(models["BACKEND"])(**models["OPTIONS"])
        assert storage.bucket_name == "visiona-models"  # no network yet
        # Presigned with SigV4 whatever the region (boto3 alone picks SigV2 for us-east-1
        # or none, which buckets made since June 2020 and R2 refuse); no network for it.
        assert "X-Amz-Signature=" in storage.url("1/a/m.nef")
    finally:
        monkeypatch.delenv("MODELS_STORAGE_S3_BUCKET")
        monkeypatch.delenv("MODELS_STORAGE_S3_PUBLIC_ENDPOINT_URL")
        monkeypatch.delenv("MODELS_STORAGE_S3_ACCESS_KEY_ID")
        monkeypatch.delenv("MODELS_STORAGE_S3_SECRET_ACCESS_KEY")
        importlib.reload(real_services)
        importlib.reload(real_settings)


@pytest.fixture
def s3_models(settings, s3_stand_in):
    """The models storage in a bucket of the S3 stand-in, as MODELS_STORAGE_S3_* make it."""
    return use_bucket_for_models(settings, s3_stand_in)


def test_it_stores_reads_and_deletes_in_an_s3_bucket(s3_models, s3_stand_in):
    data = b"".join(chunks(6 * 1024 * 1024 + 17))  # past one multipart part
    name, size, sha256 = store_stream("1/s3/m.nef", chunks(6 * 1024 * 1024 + 17))
    assert (size, sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert s3_stand_in.keys(s3_models) == [f"models/{name}"]
    with models_storage.open(name) as stored:
        assert stored.read() == data
    models_storage.delete(name)
    assert s3_stand_in.keys(s3_models) == []


def test_a_failing_stream_leaves_nothing_in_the_bucket(s3_models, s3_stand_in):
    def broken():
        yield b"x" * 100_000
        raise ConnectionError("upstream went away")

    with pytest.raises(ConnectionError):
        store_stream("1/s3/broken.nef", broken())
    assert s3_stand_in.keys(s3_models) == []


@pytest.mark.parametrize("stem", ["m" * 300, "長い名前のモデル" * 40])
def test_a_long_file_name_is_cut_to_what_a_file_system_takes(stem):
    from models_repo.storage import STORED_NAME_MAX_BYTES

    stored = model_file_name(owner_id=7, filename=f"{stem}.onnx", default="model.onnx")
    own = stored.rsplit("/", 1)[1]
    assert own.endswith(".onnx") and own[:-5] == stem[: len(own) - 5]
    assert len(own.encode()) <= STORED_NAME_MAX_BYTES
    name, size, _ = store_stream(stored, chunks(10))
    assert size == 10 and models_storage.exists(name)


def test_a_name_with_nothing_usable_gets_the_default():
    assert model_file_name(owner_id=7, filename="!!!", default="model.onnx").endswith("/model.onnx")
    assert model_file_name(owner_id=7, filename="").endswith("/model.nef")
