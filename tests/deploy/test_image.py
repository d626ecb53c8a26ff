"""The Dockerfile: one image, the command picks the role, the health check follows it.

No Docker engine here: the Dockerfile is read, and the entrypoint and the health
check it names are run as processes (the whole stack: test_compose_stack.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_deployment import PRODUCTION_ENV, production_like_env
from visiona.settings import STATIC_MANIFEST_MARKER

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"
# The image's python and gunicorn are the first on its PATH; here, the venv's.
IMAGE_PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="module")
def whole_dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def stage(dockerfile: str, name: str) -> str:
    """The instructions of the stage ``FROM ... AS name``, up to the next FROM."""
    start = re.search(rf"^FROM \S+ AS {name}$", dockerfile, re.M)
    assert start, f"no stage {name}"
    end = re.search(r"^FROM ", dockerfile[start.end() :], re.M)
    return dockerfile[start.start() : start.end() + (end.start() if end else len(dockerfile))]


@pytest.fixture(scope="module")
def dockerfile(whole_dockerfile) -> str:
    """The app's stage: every role runs it."""
    return stage(whole_dockerfile, "app")


def instruction(dockerfile: str, name: str) -> str:
    """The last ``name`` instruction's arguments (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    found = re.findall(rf"^{name} (.+)$", joined, re.M)
    assert found, f"no {name} in the Dockerfile"
    return found[-1].strip()


def in_project(image_path: str) -> Path:
    """/app/x in the image is x in the checkout (WORKDIR /app, COPY . .)."""
    return ROOT / Path(image_path).relative_to("/app")


def entrypoint(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        cwd="/",  # the script finds the project itself, as /app in the image
        env={**production_like_env(**PRODUCTION_ENV), "PATH": IMAGE_PATH, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_image_is_slim_and_runs_as_a_user_of_its_own(dockerfile):
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    user = instruction(dockerfile, "USER")
    assert user not in {"root", "0"}
    assert re.search(rf"useradd [^\n]*--uid (\d+)[^\n]* {user}\b", dockerfile)


def test_the_entrypoint_picks_the_role_and_web_is_the_default(dockerfile):
    assert json.loads(instruction(dockerfile, "ENTRYPOINT")) == ["/app/deploy/docker-entrypoint.sh"]
    assert json.loads(instruction(dockerfile, "CMD")) == ["web"]
    assert os.access(in_project("/app/deploy/docker-entrypoint.sh"), os.X_OK)


def test_docker_build_builds_the_app_by_default(whole_dockerfile):
    # The last stage is the default target: the app's, not nginx's.
    assert re.findall(r"^FROM (.+)$", whole_dockerfile, re.M)[-1] == "app"


def test_the_nginx_target_ships_the_shipped_configuration_and_this_builds_files(
    whole_dockerfile,
):
    nginx = stage(whole_dockerfile, "nginx")
    copies = re.findall(r"^COPY (.+)$", nginx, re.M)
    assert "deploy/nginx/nginx.conf /etc/nginx/nginx.conf" in copies
    assert "deploy/nginx/visiona/ /etc/nginx/visiona/" in copies
    assert "deploy/nginx/templates/ deploy/nginx/tls/ /etc/nginx/templates/" in copies
    # Where compose.yaml's nginx is told the static files are.
    assert "--from=app /app/staticfiles/ /srv/visiona/static/" in copies


def test_the_health_check_follows_the_role(dockerfile):
    command = json.loads(instruction(dockerfile, "HEALTHCHECK").split(" CMD ", 1)[1])
    # No role named: the one the entrypoint wrote (a migrate or manage container has none).
    assert command == ["python", "/app/deploy/healthcheck.py"]
    assert in_project(command[1]) == HEALTHCHECK


def test_the_build_marks_its_static_files_so_the_manifest_stays_on(dockerfile):
    run = instruction(dockerfile, "RUN")
    assert "VISIONA_STATIC_MANIFEST=1" in run and "collectstatic" in run
    assert f"touch /app/staticfiles/{STATIC_MANIFEST_MARKER}" in run
    # nginx's error pages, rendered by the app into the static folder the nginx target
    # copies (deploy/nginx/visiona/error-page.conf serves them from there).
    assert run.index("collectstatic") < run.index("manage.py write_error_pages")
    # Not an ENV an env file could override: the marker decides at run time.
    assert "VISIONA_STATIC_MANIFEST" not in instruction(dockerfile, "ENV")


def test_the_web_role_runs_gunicorn_with_gthread_workers(tmp_path):
    # gunicorn validates its settings (deploy/gunicorn.conf.py) and loads the app, then exits.
    result = entrypoint(
        "web",
        "--check-config",
        "--print-config",
        VISIONA_DATA_DIR=str(tmp_path),
        VISIONA_RUN_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    printed = dict(
        re.split(r"\s*=\s*", line, maxsplit=1) for line in result.stdout.splitlines() if "=" in line
    )
    assert printed["worker_class"] == "gthread"
    assert (printed["workers"], printed["threads"]) == ("2", "8")
    assert printed["bind"] == "['0.0.0.0:8000']"
    # Longer than nginx keeps an idle connection to web: nginx always closes it first.
    template = (ROOT / "deploy/nginx/templates/visiona.conf.template").read_text()
    upstream = re.search(
        r"upstream visiona_web \{\n(?:[^\n]*\n)*?\s*keepalive_timeout (\d+)s;", template
    )
    assert int(printed["keepalive"]) > int(upstream.group(1))
    assert (tmp_path / "visiona-role").read_text().strip() == "web"


def test_the_manage_role_runs_a_command_and_leaves_the_role_alone(tmp_path):
    (tmp_path / "visiona-role").write_text("web\n")
    result = entrypoint(
        "manage", "check", VISIONA_DATA_DIR=str(tmp_path), VISIONA_RUN_DIR=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    # A one-off `manage` in a running web container: its health check still checks web.
    assert (tmp_path / "visiona-role").read_text().strip() == "web"


def healthcheck(*args: str, run_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        env={"PATH": os.environ["PATH"], "VISIONA_RUN_DIR": str(run_dir), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_container_without_a_serving_role_has_nothing_to_check(tmp_path):
    assert healthcheck(run_dir=tmp_path).returncode == 0


def test_an_unknown_role_is_refused(tmp_path):
    result = healthcheck("gunicorn", run_dir=tmp_path)
    assert result.returncode == 2
    assert "web, relay, worker" in result.stderr


def test_a_web_that_does_not_answer_is_unhealthy(tmp_path):
    from tests.relay.conftest import free_port

    (tmp_path / "visiona-role").write_text("web\n")
    result = healthcheck(run_dir=tmp_path, PORT=str(free_port()))
    assert result.returncode == 1
    assert "/healthz" in result.stderr


def test_a_worker_whose_process_is_gone_is_unhealthy(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / "visiona-worker.pid").write_text(f"{gone.pid}\n")
    result = healthcheck("worker", run_dir=tmp_path)
    assert result.returncode == 1
    assert "gone" in result.stderr
