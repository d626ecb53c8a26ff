"""Upload then download, through the page and the API: the same bytes and hash
come back; bad files are refused next to the field and leave nothing behind."""

import hashlib

import pytest

from models_repo.models import NefModel

from .conftest import nef_bytes, stored_files

pytestmark = pytest.mark.django_db


def download(client, url: str) -> tuple[bytes, dict]:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content), response


def test_a_page_upload_round_trips(alice_client, nef_file, models_folder, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # through a temporary file, as in production
    data = nef_bytes(300_000)
    response = alice_client.post(
        "/models/upload/",
        {
            "file": nef_file("face detector.nef", data),
            "chips": ["KL720", "KL520"],
            "description": "  Faces, 640x480.  ",
        },
    )
    model = NefModel.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/models/{model.pk}/"
    assert model.name == "face detector"  # the file name when none is given
    assert (model.chips, model.source, model.description) == (
        ["KL520", "KL720"],
        "uploaded",
        "Faces, 640x480.",
    )
    assert model.size_bytes == len(data)
    assert model.sha256 == hashlib.sha256(data).hexdigest()
    assert len(stored_files(models_folder)) == 1

    body, response = download(alice_client, f"/models/{model.pk}/download/")
    assert body == data
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Disposition"] == 'attachment; filename="face detector.nef"'


def test_an_api_upload_round_trips(alice_api, nef_file):
    data = nef_bytes(100_000, seed=7)
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("x.nef", data), "name": "Pose", "chips": ["KL630"]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "Pose" and created["chips"] == ["KL630"]
    assert created["sha256"] == hashlib.sha256(data).hexdigest()
    assert created["size_bytes"] == len(data)

    body, response = download(alice_api, f"/api/models/{created['id']}/download")
    assert body == data
    assert hashlib.sha256(body).hexdigest() == created["sha256"]
    assert response["Content-Disposition"] == 'attachment; filename="Pose.nef"'
    assert response["Content-Length"] == str(len(data))
    assert response["Repr-Digest"].startswith("sha-256=:")


def test_the_api_download_ignores_the_accept_header(alice_api, alice, make_model):
    model = make_model(alice, "tiny.nef")
    response = alice_api.get(f"/api/models/{model.pk}/download", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    # A name ending in .nef is not doubled.
    assert response["Content-Disposition"] == 'attachment; filename="tiny.nef"'


def _damaged(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


BAD_FILES = [
    ("empty.nef", b"", "The file is empty."),
    ("model.onnx", nef_bytes(), "Choose a .nef file"),
    (".nef", nef_bytes(), "Choose a .nef file"),
    ("big.nef", nef_bytes(20_001), "larger than the limit of"),
    # The NEF's trailing CRC-32 (models_repo/nef.py): a flipped byte, a cut, a stub.
    ("damaged.nef", _damaged(nef_bytes(5_000)), "not a complete NEF file"),
    ("cut.nef", nef_bytes(5_000)[:-100], "not a complete NEF file"),
    ("stub.nef", b"NEF", "not a complete NEF file"),
]


@pytest.fixture
def small_limit(settings):
    settings.MODELS_MAX_UPLOAD_BYTES = 20_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024


@pytest.mark.parametrize(("filename", "data", "message"), BAD_FILES)
def test_the_page_refuses_a_bad_file_next_to_the_field(
    alice_client, nef_file, models_folder, small_limit, filename, data, message
):
    response = alice_client.post(
        "/models/upload/", {"file": nef_file(filename, data), "chips": ["KL520"]}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["file"], errors
    assert message in errors["file"][0]
    assert message in response.content.decode()
    assert not NefModel.objects.exists()
    assert stored_files(models_folder) == []


@pytest.mark.parametrize(("filename", "data", "message"), BAD_FILES)
def test_the_api_refuses_a_bad_file(
    alice_api, nef_file, models_folder, small_limit, filename, data, message
):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file(filename, data), "chips": ["KL520"]},
        format="multipart",
    )
    error = response.json()["error"]
    assert response.status_code == (413 if filename == "big.nef" else 400)
    assert error["code"] == ("payload_too_large" if filename == "big.nef" else "validation_failed")
    assert error["details"]["fields"][0]["field"] == "file"
    assert message in error["details"]["fields"][0]["message"]
    assert not NefModel.objects.exists()
    assert stored_files(models_folder) == []


def test_a_file_just_at_the_limit_is_accepted(alice_api, nef_file, small_limit):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("edge.nef", nef_bytes(20_000)), "chips": ["KL520"]},
        format="multipart",
    )
    assert response.status_code == 201
    assert response.json()["size_bytes"] == 20_000


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"chips": []}, "chips"),
        ({"chips": ["KL999"]}, "chips"),
        ({"chips": ["KL520"], "name": "x" * 201}, "name"),
    ],
)
def test_other_bad_input_is_refused(alice_client, alice_api, nef_file, models_folder, data, field):
    page = alice_client.post("/models/upload/", {"file": nef_file(), **data})
    assert field in page.context["form"].errors
    api = alice_api.post("/api/models/", {"file": nef_file(), **data}, format="multipart")
    assert api.status_code == 400
    assert api.json()["error"]["details"]["fields"][0]["field"] == field
    assert not NefModel.objects.exists()
    assert stored_files(models_folder) == []


def test_a_missing_file_is_a_clear_503(alice, alice_api, alice_client, make_model, models_folder):
    model = make_model(alice)
    for path in stored_files(models_folder):
        path.unlink()
    response = alice_api.get(f"/api/models/{model.pk}/download")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_file_unavailable"
    assert alice_client.get(f"/models/{model.pk}/download/").status_code == 503


def test_an_oversized_file_is_dropped_while_the_request_is_read(rf, settings):
    """The handler stops the file before a temporary file fills up with it."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import encode_multipart

    from models_repo.transfer import limit_upload_size, upload_was_too_large

    settings.MODELS_MAX_UPLOAD_BYTES = 100_000
    big = SimpleUploadedFile("big.nef", nef_bytes(300_000))
    body = encode_multipart("BoUnDaRy", {"chips": "KL520", "file": big})
    request = rf.post("/models/upload/", body, "multipart/form-data; boundary=BoUnDaRy")
    limit_upload_size(request)
    assert "file" not in request.FILES
    assert request.POST["chips"] == "KL520"
    assert upload_was_too_large(request)


def test_the_page_reports_every_problem_at_once(alice_client, nef_file):
    response = alice_client.post("/models/upload/", {"file": nef_file("model.onnx")})
    errors = response.context["form"].errors
    assert set(errors) == {"file", "chips"}
    assert "Choose a .nef file" in errors["file"][0]


@pytest.mark.parametrize("stem", ["m" * 300, "長い名前のモデル" * 40])
def test_a_long_file_name_uploads_and_downloads(alice_api, nef_file, models_folder, stem):
    from models_repo.storage import STORED_NAME_MAX_BYTES

    data = nef_bytes(5_000, seed=3)
    response = alice_api.post(
        "/api/models/", {"file": nef_file(f"{stem}.nef", data), "chips": ["KL720"]}
    )
    assert response.status_code == 201, response.content
    model = NefModel.objects.get()
    # Named after the file, as much as a name takes; stored under a name a file system takes.
    assert stem.startswith(model.name) and len(model.name) == 200
    (stored,) = stored_files(models_folder)
    assert stored.name.endswith(".nef") and len(stored.name.encode()) <= STORED_NAME_MAX_BYTES
    body, _ = download(alice_api, f"/api/models/{model.pk}/download")
    assert body == data
    # With a name of its own, the same file takes it.
    model.delete()
    stored.unlink()
    named = alice_api.post(
        "/api/models/", {"file": nef_file(f"{stem}.nef", data), "name": "s", "chips": ["KL720"]}
    )
    assert named.status_code == 201 and named.json()["name"] == "s"
