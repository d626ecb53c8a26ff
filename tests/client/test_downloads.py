"""visionA serves the agent's wheel at /downloads/, signed out, and it installs offline."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from devices import client_package

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(settings, built_wheel_dir):
    settings.CLIENT_DOWNLOADS_DIR = built_wheel_dir
    return client_package.current_wheel()


def test_the_wheel_holds_the_agent_and_its_console_script(served):
    assert served.name.startswith("visiona_client-")
    with zipfile.ZipFile(served) as wheel:
        names = wheel.namelist()
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        scripts = wheel.read(entry_points).decode()
        assert "visiona-agent = visiona_client.agent_cli:main" in scripts
        assert "visiona = visiona_client.visiona_cli.main:entry_point" in scripts
        requires = [
            line
            for line in wheel.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    assert "visiona_client/agent_cli.py" in names
    # requests, the tunnel's two and the CLI's streamed upload (requests-toolbelt):
    # no Django, nothing of the project.
    names_required = [
        re.split(r"[ <>=;]", r.split(maxsplit=1)[1])[0] for r in requires if "extra ==" not in r
    ]
    assert names_required == ["requests", "websockets", "h2", "requests-toolbelt"]
    # onnxruntime, numpy and Pillow only with the validate / demo extras (docs/runs.md).
    extras = {re.split(r"[ <>=;]", r.split(maxsplit=1)[1])[0] for r in requires if "extra ==" in r}
    assert {name.lower() for name in extras} == {"numpy", "onnxruntime", "pillow"}
    assert not [n for n in names if n.startswith(("devices/", "visiona/", "tests/"))]


def test_it_is_served_signed_out_as_a_download(client, served):
    response = client.get(f"/downloads/{served.name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert f'filename="{served.name}"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == served.read_bytes()
    assert client.head(f"/downloads/{served.name}").status_code == 200


def test_the_index_links_it_with_its_hash(client, served):
    page = client.get("/downloads/").content.decode()
    sha256 = client_package.wheel_sha256(served)
    assert f'href="/downloads/{served.name}#sha256={sha256}"' in page
    assert f"pip install http://testserver/downloads/{served.name}" in page


def test_the_index_names_the_command_line_too(client, served):
    page = client.get("/downloads/").content.decode()
    assert "<code>visiona</code>, the command line" in page
    assert "visiona login --server http://testserver<" in page  # as the tokens page
    assert "a token from the API tokens page" in page


def test_another_name_is_a_readable_404(client, served):
    for name in ("visiona_client-9.9-py3-none-any.whl", "state.json", ".gitignore"):
        response = client.get(f"/downloads/{name}")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/plain")
        assert served.name in response.content.decode()
    # A path with a slash matches no download route at all.
    assert client.get("/downloads/..%2F..%2Fmanage.py").status_code == 404


def test_not_built_is_a_readable_404(client, settings, tmp_path):
    settings.CLIENT_DOWNLOADS_DIR = tmp_path
    response = client.get("/downloads/visiona_client-0.1.0-py3-none-any.whl")
    assert response.status_code == 404
    assert b"python manage.py build_client" in response.content
    assert b"build_client" in client.get("/downloads/").content


def test_a_rebuild_replaces_the_old_wheel(settings, tmp_path):
    settings.CLIENT_DOWNLOADS_DIR = tmp_path
    (tmp_path / "visiona_client-0.0.1-py3-none-any.whl").write_bytes(b"old")
    built = client_package.build_wheel()
    assert sorted(p.name for p in tmp_path.iterdir()) == [built.name]


@pytest.mark.live
def test_the_served_wheel_installs_into_a_fresh_venv_offline(live_server, served, tmp_path):
    import requests

    download = tmp_path / served.name
    download.write_bytes(
        requests.get(f"{live_server.url}/downloads/{served.name}", timeout=10).content
    )
    venv = tmp_path / "venv"
    # No pip inside (faster); this interpreter's pip installs into it, from the file only.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-index", "--no-deps", str(download)],
        check=True,
        capture_output=True,
    )
    script = venv / "bin" / "visiona-agent"
    assert script.exists()
    # requests from this interpreter's site-packages; the agent from the fresh venv.
    environment = {"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(script), "--version"], env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"visiona-agent {served.name.split('-')[1]}"
    where = subprocess.run(
        [str(python), "-c", "import visiona_client; print(visiona_client.__file__)"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(venv))


def test_the_image_builds_the_wheel_outside_the_data_folder(tmp_path):
    from tests.test_deployment import ROOT, settings_value

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.index("COPY . .") < dockerfile.index("manage.py build_client")
    folder = Path(settings_value("settings.CLIENT_DOWNLOADS_DIR", VISIONA_DATA_DIR=str(tmp_path)))
    assert not folder.is_relative_to(tmp_path)
    assert folder.is_relative_to(ROOT)
