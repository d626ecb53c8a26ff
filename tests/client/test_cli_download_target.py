"""Where ``models download -o`` and ``jobs ID --download`` write: a file, or into an
existing folder under the file's own name (as cp and curl -O do); a path that cannot be
written is a clear error, and so is any other local file error: never a traceback."""

from __future__ import annotations

import json

import pytest
import responses
from visiona_client.visiona_cli import main as cli_main

from tests.client.cli_helpers import SERVER, point_cli_at

BUCKET = "https://bucket.example/nef?signature=x"
MODEL = {"id": 7, "name": "yolo-720", "chips": ["KL720"], "size_bytes": 4, "sha256": "a" * 64}
JOB_ID = "0b7a2f4e-0000-4000-8000-00000000000a"
JOB = {"job_id": JOB_ID, "status": "completed", "filename": "yolo.onnx", "chip": "KL720"}


@pytest.fixture
def api(monkeypatch, tmp_path):
    point_cli_at(monkeypatch, tmp_path / "config")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{SERVER}/api/models/7", json=MODEL)
        mock.get(f"{SERVER}/api/models/7/download", body=b"NEF!")
        mock.get(f"{SERVER}/api/conversion/{JOB_ID}", json=JOB)
        mock.get(
            f"{SERVER}/api/conversion/{JOB_ID}/download", status=302, headers={"Location": BUCKET}
        )
        mock.get(BUCKET, body=b"NEF!")
        yield mock


def run(capsys, *arguments, **injected):
    code = cli_main.main(["--json", *arguments], **injected)
    return code, json.loads(capsys.readouterr().out)


def test_a_model_downloaded_into_a_folder_keeps_its_name(api, capsys, tmp_path):
    code, data = run(capsys, "models", "download", "7", "-o", str(tmp_path))
    assert code == 0
    assert (tmp_path / "yolo-720.nef").read_bytes() == b"NEF!"
    assert data["path"] == str(tmp_path / "yolo-720.nef")
    assert not list(tmp_path.glob("*.part"))


def test_a_model_downloaded_to_a_file_name_is_written_there(api, capsys, tmp_path):
    code, _ = run(capsys, "models", "download", "7", "-o", str(tmp_path / "mine.nef"))
    assert code == 0
    assert (tmp_path / "mine.nef").read_bytes() == b"NEF!"


def test_a_jobs_nef_downloaded_into_a_folder_is_named_after_its_model(api, capsys, tmp_path):
    code, data = run(capsys, "jobs", JOB_ID, "--download", str(tmp_path))
    assert code == 0
    assert (tmp_path / "yolo.nef").read_bytes() == b"NEF!"
    assert data["download"]["path"] == str(tmp_path / "yolo.nef")


def test_a_place_in_no_folder_is_refused_before_the_download(api, capsys, tmp_path):
    target = tmp_path / "no-such-folder" / "x.nef"
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "models", "download", "7", "-o", str(target))
    assert exit_.value.code == 2
    assert "invalid download path" in capsys.readouterr().err
    assert not any(call.request.url.endswith("/file") for call in api.calls)


def test_any_other_local_file_error_is_a_message_not_a_traceback(api, capsys):
    def fails(args):
        raise IsADirectoryError(21, "Is a directory", "/tmp/somewhere")

    code, data = run(capsys, "whoami", func=fails)
    assert code == 2
    assert data["error"]["code"] == "os_error"
    assert data["error"]["message"] == "Is a directory (/tmp/somewhere)"
