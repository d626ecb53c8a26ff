"""compose.yaml: what every service declares, and the whole product run from it.

The first tests read the file. The last runs every service's command and environment
as processes on loopback (tests/deploy/compose_stack.py: no Docker engine here) and
walks a user's journey through nginx over TLS: the first staff user, sign-in, a
conversion in the sandbox, saved to My models, a demo agent paired and connected
through the tunnel, its dependencies read, the model deployed and installed.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.deploy.compose_stack import ROOT, load_compose, read_env_file

ONE_SHOTS = {"migrate"}
# nginx's body limits that follow the app's settings (deploy/stack_scripts.py's facts).
NGINX_LIMITS = (
    "VISIONA_CONVERSION_UPLOAD_LIMIT",
    "VISIONA_MODELS_UPLOAD_LIMIT",
    "VISIONA_REFERENCE_UPLOAD_LIMIT",
    "VISIONA_RUNS_UPLOAD_LIMIT",
    "VISIONA_RELAY_BODY_LIMIT",
)
APP_ROLES = {"web": ["web"], "relay": ["relay"], "worker": ["worker"], "migrate": ["migrate"]}


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def nginx_image_version() -> tuple[int, ...]:
    """The version of the nginx image the Dockerfile's nginx target starts from."""
    found = re.search(
        r"^FROM nginx:(\d+)\.(\d+)(?:\.(\d+))?\S* AS nginx$",
        (ROOT / "Dockerfile").read_text(),
        re.M,
    )
    assert found, "the nginx target's FROM"
    return tuple(int(part or 0) for part in found.groups())


def test_every_lasting_service_has_a_health_check_and_a_restart_policy(compose):
    for name, service in compose["services"].items():
        if name in ONE_SHOTS:
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name}: no health check"
        assert not service["healthcheck"].get("disable"), f"{name}: health check disabled"
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, name


def test_one_shot_services_run_once_and_the_others_wait_for_them(compose):
    services = compose["services"]
    for name in ONE_SHOTS:
        assert services[name]["restart"] == "no", name
    for name in ("web", "relay", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_the_app_roles_are_one_image_and_each_checks_its_own_health(compose):
    services = compose["services"]
    for name, command in APP_ROLES.items():
        assert services[name]["image"] == services["web"]["image"]
        assert services[name]["build"]["target"] == "app"
        assert services[name]["command"] == command
    for name in ("web", "relay", "worker"):
        test = services[name]["healthcheck"]["test"]
        assert test == ["CMD", "python", "/app/deploy/healthcheck.py", name]


def test_data_lives_in_named_volumes_and_redis_keeps_an_append_only_file(compose):
    services, volumes = compose["services"], set(compose["volumes"])
    for name, path in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        assert f"{name}-data:{path}" in services[name]["volumes"], name
        assert f"{name}-data" in volumes
    assert "--appendonly yes" in " ".join(services["redis"]["command"])


def test_every_web_replica_and_nginx_share_the_model_files(compose):
    services = compose["services"]
    assert "models" in compose["volumes"]
    for name in ("web", "worker"):
        assert "models:/app/var/models" in services[name]["volumes"], name
        # The operator's word the app needs before it runs several web instances.
        assert services[name]["environment"]["MODELS_STORAGE_SHARED"] == "1", name
    nginx = services["nginx"]
    root = nginx["environment"]["VISIONA_MODELS_ROOT"]
    assert f"models:{root}:ro" in nginx["volumes"]
    # nginx sends the files itself once the app authorized the download.
    assert "files" in nginx["environment"]["VISIONA_OFFLOAD"].split()


def test_secrets_come_only_from_the_uncommitted_env_file(compose):
    assert "deploy/.env" in (ROOT / ".gitignore").read_text().splitlines()
    tracked = subprocess.run(
        ["git", "ls-files", "deploy/.env"], cwd=ROOT, capture_output=True, text=True
    )
    assert tracked.stdout.strip() == ""
    secret_names = re.compile(r"PASSWORD|SECRET|ACCESS_KEY")
    for name, service in compose["services"].items():
        for variable in service.get("environment") or {}:
            assert not secret_names.search(variable), f"{name} sets {variable} in compose.yaml"
        if name not in {"nginx"}:
            assert service.get("env_file") == "deploy/.env", name


def test_only_nginx_publishes_ports(compose):
    published = {name for name, service in compose["services"].items() if "ports" in service}
    assert published == {"nginx"}


def test_the_relay_nodes_advertise_themselves_and_scale(compose):
    relay = compose["services"]["relay"]
    assert "RELAY_NODE_INTERNAL_URL" not in (relay.get("environment") or {})
    env_example = read_env_file(ROOT / "deploy" / ".env.example")
    assert "RELAY_NODE_INTERNAL_URL" not in env_example
    scaled = load_compose({"RELAY_REPLICAS": "3", "WEB_REPLICAS": "2"})["services"]
    assert scaled["relay"]["deploy"]["replicas"] == 3
    assert scaled["web"]["deploy"]["replicas"] == 2
    assert scaled["web"]["environment"]["VISIONA_WEB_INSTANCES"] == "2"


def new_env_file(tmp_path: Path, host: str) -> Path:
    output = tmp_path / "env"
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "new_env.py"), host, "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return output


def test_the_env_file_is_generated_with_matching_secrets(tmp_path):
    output = new_env_file(tmp_path, "visiona.example.org")
    assert output.stat().st_mode & 0o077 == 0
    values = read_env_file(output)
    assert "<" not in output.read_text()
    assert values["ALLOWED_HOSTS"] == "visiona.example.org"
    assert values["POSTGRES_PASSWORD"] in values["DATABASE_URL"]
    assert values["REDIS_PASSWORD"] in values["REDIS_URL"]
    assert len(values["SECRET_KEY"]) >= 50 and len(values["RELAY_INTERNAL_SECRET"]) >= 50
    assert values["SECRET_KEY"] != values["RELAY_INTERNAL_SECRET"]
    again = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "new_env.py"), "x.org", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert again.returncode != 0 and "not overwritten" in again.stderr


def test_the_production_env_example_passes_the_deploy_check(tmp_path):
    """The values deploy/.env.example gives are right for the image: --deploy finds
    nothing but HSTS preloading, which only the operator may decide (see the file)."""
    env = read_env_file(new_env_file(tmp_path, "visiona.example.org"))
    env.update(VISIONA_DATA_DIR=str(tmp_path / "data"), PATH="/usr/bin:/bin")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    issues = re.findall(r"^\?: \((\S+)\)", result.stdout + result.stderr, re.M)
    assert issues == ["security.W021"], result.stdout + result.stderr
    preloaded = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**env, "SECURE_HSTS_PRELOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert preloaded.returncode == 0, preloaded.stdout + preloaded.stderr


def test_nginx_limits_are_the_apps_own_with_the_production_env(compose, tmp_path):
    """compose.yaml's body limits for nginx: the ones the app computes from its settings
    (deploy/stack_scripts.py, as the loopback stack asks), with deploy/.env's values."""
    from deploy.stack_scripts import FACTS

    env = read_env_file(new_env_file(tmp_path, "visiona.example.org"))
    env.update(VISIONA_DATA_DIR=str(tmp_path / "data"), PATH="/usr/bin:/bin")
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", FACTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    nginx = compose["services"]["nginx"]["environment"]
    for name in NGINX_LIMITS:
        fact = name.removeprefix("VISIONA_").lower()
        assert nginx[name] == str(facts[fact]), name


def test_the_app_believes_nginx_on_any_network_docker_makes():
    """nginx's address on the compose network is in TRUSTED_PROXIES: Docker's default
    address pools (172.17-31.0.0/16, 192.168.0.0/16 in /20s), so the app reads the user's
    address from X-Forwarded-For (rate limits, sign-in lockouts)."""
    env = read_env_file(ROOT / "deploy" / ".env.example")
    trusted = [ipaddress.ip_network(entry) for entry in env["TRUSTED_PROXIES"].split(",")]
    pools = [ipaddress.ip_network(f"172.{n}.0.0/16") for n in range(17, 32)]
    pools += list(ipaddress.ip_network("192.168.0.0/16").subnets(new_prefix=20))
    for pool in pools:
        assert any(pool.subnet_of(network) for network in trusted), pool
    assert env["TRUST_X_FORWARDED_PROTO"] == "1"


def test_nginx_follows_the_web_replicas_by_name(compose, nginx_image_version):
    nginx = compose["services"]["nginx"]["environment"]
    assert nginx["VISIONA_WEB"] == "web:8000"
    # "resolve" on an upstream server needs nginx 1.27.3 or later: the image's.
    assert nginx["VISIONA_WEB_SERVER_OPTIONS"] == "resolve"
    assert nginx_image_version >= (1, 27, 3)
    # Names are looked up with Docker's DNS: web's replicas, and the relay's tunnel port.
    assert nginx["VISIONA_RESOLVER"] == "127.0.0.11"


# --- the whole product, from compose.yaml --------------------------------------------------


@pytest.fixture
def compose_stack(tmp_path):
    from tests.deploy.journey import running_stack

    prefix = f"visiona-compose-{uuid.uuid4().hex[:10]}"
    with running_stack(tmp_path, key_prefix=prefix) as stack:
        yield stack


@pytest.mark.live
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_a_user_journey_through_the_whole_stack(compose_stack, tmp_path):
    from tests.deploy.journey import walk

    walk(compose_stack, tmp_path / "agent")
    # The model file is in the models volume, which every web replica and nginx mount.
    assert list(compose_stack.volumes["models"].rglob("*.nef"))
    # Every lasting service is still healthy by its own compose check...
    for name, replicas in compose_stack.replicas.items():
        if not compose_stack.one_shot(name):
            for replica in replicas:
                assert compose_stack.healthy(replica), f"{replica.name}:\n{replica.tail()}"
    # ...and a check can fail: the worker's, once its process is gone.
    compose_stack.stop_service("worker")
    worker = compose_stack.replicas["worker"][0]
    check = subprocess.run(
        compose_stack.health_command(worker), env=worker.env, capture_output=True, timeout=60
    )
    assert check.returncode == 1, check.stderr


def test_service_urls_are_rewritten_to_their_stand_ins():
    from tests.deploy.compose_stack import StandIns

    stand_ins = StandIns("postgres://db", "redis://r/5", site_port=4443)
    assert stand_ins.rewrite("postgres://visiona:pw@postgres:5432/visiona") == "postgres://db"
    assert stand_ins.rewrite("redis://:pw@redis:6379/0") == "redis://r/5"
    assert stand_ins.rewrite("wss://127.0.0.1/tunnel") == "wss://127.0.0.1:4443/tunnel"
    assert stand_ins.rewrite("https://converter.example.com/x") == "https://converter.example.com/x"
    assert stand_ins.rewrite("visiona-models") == "visiona-models"
