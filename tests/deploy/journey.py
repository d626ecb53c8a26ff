"""The compose stack on loopback (``running_stack``) and a user's journey through it (``walk``).

Everything the journey does goes through nginx over TLS, as a user and an agent would:
no test shortcut into the app's process or its database.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import ipaddress
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import redis
import requests
from django.conf import settings
from django.db import connection

from deploy.processes import free_port
from tests.deploy.compose_stack import (
    ENTRYPOINT,
    ROOT,
    ComposeStack,
    StandIns,
    load_compose,
    read_env_file,
)
from tests.e2e.conftest import BOUNDARY, Form, standard_form
from tests.waiting import wait_for
from visiona.settings import STATIC_MANIFEST_MARKER

# Two of each: model files must be found by whichever web instance is asked, and a
# tunnel through whichever relay node the agent reached.
REPLICAS = {"WEB_REPLICAS": "2", "RELAY_REPLICAS": "2"}
STAFF = ("admin", "a staff password for the journey 7")
DEADLINE_SECONDS = 180


# --- the stack ------------------------------------------------------------------------------


def self_signed_certificate(folder: Path) -> Path:
    """tls.crt and tls.key for 127.0.0.1, as deploy/tls/README.md has an operator make."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True)
    (folder / "tls.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "tls.crt"


def _server_url(database: str = "postgres") -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}"


@contextlib.contextmanager
def own_database() -> Iterator[str]:
    """A database of this test's own, empty: the migrate service makes its tables."""
    name = f"{connection.settings_dict['NAME']}_compose_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_server_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _server_url(name)
    finally:
        with psycopg.connect(_server_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def delete_keys(redis_url: str, prefix: str) -> None:
    """Only the keys this run wrote (its own prefix), never FLUSHDB."""
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def build_static_files(static_root: Path) -> None:
    """What the Dockerfile's build does: collect with the manifest, write nginx's error
    pages beside them, leave the marker that keeps the manifest on."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "build-only-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "build.invalid",
        "VISIONA_DATA_DIR": str(static_root.parent / "build-data"),
        "VISIONA_STATIC_MANIFEST": "1",
        "VISIONA_STATIC_ROOT": str(static_root),
    }
    for command in (["collectstatic", "--no-input", "-v0"], ["write_error_pages"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=300
        )
    (static_root / STATIC_MANIFEST_MARKER).touch()


class KneronStandIns:
    """Member Center, the converter and FAA: the sandbox in a process of its own, outside
    the stack as Kneron's services are; the app is configured for them as for the real ones."""

    CLIENT = ("visiona-sandbox", "sandbox-secret")  # the sandbox Member Center's client

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        base = f"http://127.0.0.1:{self.port}/sandbox"
        self.settings = {
            "CONVERTER_BASE_URL": f"{base}/converter",
            "FAA_BASE_URL": f"{base}/faa",
            "MC_SERVICE_ISSUER": f"{base}/mc",
            "MC_SERVICE_CLIENT_ID": self.CLIENT[0],
            "MC_SERVICE_CLIENT_SECRET": self.CLIENT[1],
        }

    def __enter__(self) -> KneronStandIns:
        self.folder.mkdir(parents=True)
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "DEBUG": "1",
            "VISIONA_SANDBOX": "1",
            "VISIONA_DATA_DIR": str(self.folder),
            "SANDBOX_STAGE_SECONDS": "0",
        }
        self.log = (self.folder / "output.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_sandbox", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

        def answers() -> bool:
            assert self.process.poll() is None, (self.folder / "output.log").read_text()
            try:
                requests.get(f"http://127.0.0.1:{self.port}/sandbox/", timeout=2)
            except requests.ConnectionError:
                return False
            return True

        wait_for(answers, timeout=DEADLINE_SECONDS, interval=0.25, what="the sandbox")
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


@contextlib.contextmanager
def running_stack(work: Path, *, key_prefix: str) -> Iterator[ComposeStack]:
    env_path = work / "deploy.env"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "deploy" / "new_env.py"),
            "127.0.0.1",
            "--output",
            str(env_path),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    env_file = read_env_file(env_path)
    certificate = self_signed_certificate(work / "tls")
    static_root = work / "static"
    build_static_files(static_root)
    with own_database() as database_url, KneronStandIns(work / "upstreams") as upstreams:
        stand_ins = StandIns(
            database_url=database_url,
            redis_url=settings.REDIS_URL,
            site_port=free_port(),
        )
        stack = ComposeStack(
            compose=load_compose(REPLICAS),
            env_file=env_file,
            stand_ins=stand_ins,
            work=work / "services",
            extra_env={
                "VISIONA_STATIC_ROOT": str(static_root),
                "REDIS_KEY_PREFIX": key_prefix,
                **upstreams.settings,
                "GUNICORN_WORKERS": "1",
                "LOG_LEVEL": "WARNING",
            },
            nginx_paths={
                "/srv/visiona/static": str(static_root),
                "/etc/nginx/tls": str(certificate.parent),
                "/dev/stdout": str(work / "services" / "nginx-access.log"),
            },
        )
        stack.tls_certificate = certificate
        stack.site_url = stand_ins.site_url
        try:
            stack.start()
            yield stack
        except BaseException:
            print(stack.logs())
            raise
        finally:
            stack.stop()
            delete_keys(settings.REDIS_URL, key_prefix)


# --- the journey ----------------------------------------------------------------------------


class Browser:
    """A user's HTTP client through nginx over TLS, signed in with the sign-in form."""

    def __init__(self, stack: ComposeStack) -> None:
        self.base = stack.site_url
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = str(stack.tls_certificate)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, timeout=60, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        headers = {
            "X-CSRFToken": self.http.cookies.get("csrftoken", ""),
            "Referer": self.base + "/",
            **kwargs.pop("headers", {}),
        }
        return self.http.post(self.base + path, headers=headers, timeout=120, **kwargs)

    def sign_in(self, username: str, password: str) -> None:
        form = self.get("/accounts/login/")
        assert form.status_code == 200, form.text[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = self.post(
            "/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            allow_redirects=False,
        )
        assert answer.status_code == 302, answer.text[:500]


def create_staff_user(stack: ComposeStack) -> None:
    """The documented first step: `docker compose run --rm web manage createsuperuser`."""
    username, password = STAFF
    web = stack.replicas["web"][0]
    result = subprocess.run(
        [str(ENTRYPOINT), "manage", "createsuperuser", "--no-input", "--username", username],
        cwd="/",
        env={**web.env, "DJANGO_SUPERUSER_PASSWORD": password, "DJANGO_SUPERUSER_EMAIL": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def convert_and_save(browser: Browser) -> dict:
    upload = browser.post(
        "/api/conversion/init",
        data=Form(standard_form(filename="journey.onnx")),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert upload.status_code == 201, upload.text
    job_id = upload.json()["job_id"]

    def finished():
        job = browser.get(f"/api/conversion/{job_id}").json()
        return job if job["status"] in ("completed", "failed") else None

    job = wait_for(finished, timeout=DEADLINE_SECONDS, interval=0.25, what="the conversion")
    assert job["status"] == "completed", job
    saved = browser.post(f"/api/conversion/{job_id}/promote-to-models", json={"name": "Journey"})
    assert saved.status_code == 200, saved.text
    return saved.json()["model"]


def agent_env(stack: ComposeStack, home: Path) -> dict[str, str]:
    certificate = str(stack.tls_certificate)
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "NO_PROXY": "*",
        # The agent trusts the site's certificate (self-signed here) for HTTPS and wss://.
        "REQUESTS_CA_BUNDLE": certificate,
        "SSL_CERT_FILE": certificate,
    }


def pair_and_run_agent(stack: ComposeStack, browser: Browser, folder: Path):
    code = browser.post("/api/devices/pairing-codes")
    assert code.status_code == 201, code.text
    base, demo = ["visiona-agent"], ["--demo"]
    state = ["--state-dir", str(folder / "state")]
    env = agent_env(stack, folder)
    paired = subprocess.run(
        [
            *base,
            "pair",
            "--server",
            stack.site_url,
            "--code",
            code.json()["code"],
            "--demo",
            *state,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert paired.returncode == 0, paired.stdout + paired.stderr
    models = ["--models-dir", str(folder / "models")]
    log = (folder / "agent.log").open("w")
    process = subprocess.Popen(
        [*base, "-v", "run", "--server", stack.site_url, *demo, *state, *models],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, folder / "agent.log"


def request_id() -> dict[str, str]:
    return {"X-Request-Id": uuid.uuid4().hex}


def relayed_by_nginx(stack: ComposeStack, request_id: str) -> bool:
    """Whether nginx's access log shows the request answered after an internal redirect:
    two upstreams, the web app's and then the relay node's ("0.007 : 0.008")."""
    log = stack.work / "nginx-access.log"
    lines = [line for line in log.read_text().splitlines() if line.endswith(f" id={request_id}")]
    if not lines:
        return False
    [line] = lines
    assert re.search(r'" 200 \d+ [\d.]+ [\d.]+ : [\d.]+ "', line), line
    return True


def walk(stack: ComposeStack, folder: Path) -> None:
    create_staff_user(stack)
    browser = Browser(stack)
    browser.sign_in(*STAFF)
    me = browser.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["user"]["username"] == STAFF[0], me.text

    model = convert_and_save(browser)
    # Downloaded from My models: the app authorizes, nginx sends the file from the volume.
    download = browser.get(f"/api/models/{model['id']}/download")
    assert download.status_code == 200, download.text[:500]
    assert hashlib.sha256(download.content).hexdigest() == model["sha256"]
    agent, agent_log = pair_and_run_agent(stack, browser, folder)
    try:
        [device] = browser.get("/api/devices/").json()["devices"]

        # Connected through nginx's /tunnel to one of the relay nodes, found by any web.
        def dependencies() -> requests.Response | None:
            answer = browser.get("/api/system/deps", headers=request_id())
            return answer if answer.status_code == 200 else None

        deps = wait_for(
            dependencies,
            timeout=DEADLINE_SECONDS,
            interval=0.25,
            what="the device's dependencies through the tunnel",
        )
        assert deps.json()["demo"] is True
        # nginx asked web, which authorized the request, then fetched the answer itself
        # from the node holding the tunnel, at the address the node advertises.
        wait_for(
            lambda: relayed_by_nginx(stack, deps.request.headers["X-Request-Id"]),
            timeout=DEADLINE_SECONDS,
            interval=0.25,
            what="the relayed request's line in nginx's access log",
        )

        created = browser.post(
            "/api/deployments", json={"model_id": model["id"], "device_ids": [device["id"]]}
        )
        assert created.status_code == 201, created.text
        [result] = created.json()["results"]
        deployment_id = result["deployment"]["id"]

        def settled():
            state = browser.get(f"/api/deployments/{deployment_id}").json()
            return state if state["state"] in ("installed", "failed") else None

        deployment = wait_for(
            settled, timeout=DEADLINE_SECONDS, interval=0.25, what="the deployment"
        )
        assert deployment["state"] == "installed", (deployment, agent_log.read_text()[-3000:])
        installed = list((folder / "models").glob("*.nef"))
        assert [hashlib.sha256(path.read_bytes()).hexdigest() for path in installed] == [
            model["sha256"]
        ]
    finally:
        agent.kill()
        agent.wait(timeout=15)
