"""The production-like stack on loopback: nginx (Debian's, with the shipped configuration)
in front of gunicorn (as the image runs it), relay nodes, PostgreSQL and Redis.

    make stack                   # or: python -m deploy.loopback [--relays 2] [--sandbox]

    with LoopbackStack(database_url=..., redis_url=...) as stack:
        requests.get(stack.url("/healthz"))        # through nginx
        requests.get(stack.direct_url("/healthz")) # straight to gunicorn

Benchmarks (bench/) and the end-to-end tests (the ``loopback_stack`` fixture of
tests/conftest.py) run on it. The nginx files are the ones under deploy/nginx/, rendered
as the official image renders its templates (``render_template``: ``${NAME}`` and
``$NAME`` of defined variables only); only the main file, which names this run's paths,
is written here (``main_config``), with the settings of deploy/nginx/nginx.conf.
PostgreSQL and Redis are the ones named (they are not started here).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "deploy" / "nginx"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
NGINX = os.environ.get("VISIONA_NGINX", shutil.which("nginx") or "/usr/sbin/nginx")
MIME_TYPES = Path("/etc/nginx/mime.types")

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def render_template(text: str, env: Mapping[str, str]) -> str:
    """What envsubst does in the official image: ``${NAME}`` and ``$NAME`` replaced for
    the names ``env`` defines, every other ``$`` left for nginx. A ``${VISIONA_...}``
    left over is an error here: nginx would only say "unknown variable" much later."""

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return env[name] if name in env else match.group(0)

    rendered = _VARIABLE.sub(value, text)
    missing = sorted(set(re.findall(r"\$\{(VISIONA_\w+)\}", rendered)))
    if missing:
        raise KeyError(f"nginx template values not given: {', '.join(missing)}")
    return rendered


def main_config(run_dir: Path, *, worker_processes: int = 1) -> str:
    """The main nginx file for this run: deploy/nginx/nginx.conf's settings, this run's
    paths (pid, logs, temporary files) and the rendered templates in ``conf.d/``."""
    # As root (a CI container) the workers stay root: they read folders private to the
    # test run; as anyone else nginx runs as that user (no "user" line applies).
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {run_dir / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\n"
        f"worker_processes {worker_processes};\n"
        "worker_rlimit_nofile 65536;\n"
        f"pid {run_dir / 'nginx.pid'};\n"
        f"error_log {run_dir / 'error.log'} warn;\n"
        "events {\n    worker_connections 16384;\n}\n"
        "http {\n"
        f"    include {MIME_TYPES};\n"
        f"{temp}\n"
        "    include conf.d/*.conf;\n"
        "}\n"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.05)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _answers(port: int, path: str = "/healthz") -> bool:
    """True once an HTTP answer with a status below 500 comes back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            request = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
            sock.sendall(request.encode())
            head = sock.recv(64)
    except OSError:
        return False
    parts = head.split(b" ", 2)
    return len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < 500


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def check(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class LoopbackStack:
    """Start with ``with`` (or ``start()`` / ``stop()``).

    ``env``: more environment for the web app and the relays (settings to try);
    ``settings_module``: the tests run theirs; ``migrate``: off when the database is
    made elsewhere (pytest-django's test database); ``sandbox``: the upstreams'
    stand-ins in a process of their own (``run_sandbox``), as the upload benchmarks use.
    """

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        env: Mapping[str, str] | None = None,
        settings_module: str = "visiona.settings",
        relays: int = 1,
        workers: int | None = None,
        threads: int | None = None,
        sandbox: bool = False,
        migrate: bool = True,
        static_root: Path | None = None,
        data_dir: Path | None = None,
        work_dir: Path | None = None,
    ) -> None:
        base = "/dev/shm" if Path("/dev/shm").is_dir() else None
        self.work = Path(work_dir or tempfile.mkdtemp(prefix="visiona-stack-", dir=base))
        self.work.mkdir(parents=True, exist_ok=True)
        self.database_url, self.redis_url = database_url, redis_url
        self.settings_module, self.migrate, self.with_sandbox = settings_module, migrate, sandbox
        self.static_root = Path(static_root or self.work / "static")
        self.data_dir = Path(data_dir or self.work / "data")
        self.nginx_port, self.web_port = free_port(), free_port()
        self.relay_ports = [(free_port(), free_port()) for _ in range(relays)]
        self.sandbox_port = free_port() if sandbox else None
        self.processes: list[Process] = []
        self.env = self._app_env(env or {}, workers=workers, threads=threads)

    # --- addresses -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Through nginx, as users and agents reach the site."""
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def direct_base_url(self) -> str:
        """Straight to gunicorn, bypassing nginx (what ``make run``'s server answers)."""
        return f"http://127.0.0.1:{self.web_port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def direct_url(self, path: str) -> str:
        return self.direct_base_url + path

    @property
    def tunnel_url(self) -> str:
        """Where agents dial: nginx's /tunnel, in front of the first relay node."""
        return f"ws://127.0.0.1:{self.nginx_port}/tunnel"

    @property
    def relay_internal_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{internal}" for _tunnel, internal in self.relay_ports]

    @property
    def gunicorn(self) -> Process:
        return next(process for process in self.processes if process.name == "gunicorn")

    @property
    def worker_pids(self) -> list[int]:
        return _children(self.gunicorn.popen.pid)

    def pids(self) -> dict[str, list[int]]:
        """Every process of the stack by role (nginx and gunicorn: master, then workers)."""
        found: dict[str, list[int]] = {}
        for process in self.processes:
            role = process.name.split("-")[0]
            pid = process.popen.pid
            found.setdefault(role, []).extend([pid, *_children(pid)])
        return found

    # --- environment -----------------------------------------------------------------
    def _app_env(self, extra: Mapping[str, str], *, workers, threads) -> dict[str, str]:
        inherited = {
            name: value
            for name, value in os.environ.items()
            if name not in ("DATABASE_URL", "REDIS_URL", "CI", "DJANGO_SETTINGS_MODULE")
        }
        env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: TLS ends in nginx in production (deploy/nginx/tls/).
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0",
            "TRUSTED_PROXIES": "127.0.0.1",
            "TRUST_X_FORWARDED_PROTO": "1",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "VISIONA_DATA_DIR": str(self.data_dir),
            "VISIONA_STATIC_ROOT": str(self.static_root),
            "RELAY_INTERNAL_SECRET": secrets.token_urlsafe(60),
            "RELAY_PUBLIC_URL": self.tunnel_url,
            "GUNICORN_BIND": f"127.0.0.1:{self.web_port}",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if self.sandbox_port:
            sandbox = f"http://127.0.0.1:{self.sandbox_port}/sandbox"
            env.update(
                CONVERTER_BASE_URL=f"{sandbox}/converter",
                FAA_BASE_URL=f"{sandbox}/faa",
                MC_SERVICE_ISSUER=f"{sandbox}/mc",
                MC_SERVICE_CLIENT_ID="visiona-sandbox",
                MC_SERVICE_CLIENT_SECRET="sandbox-secret",
            )
        if workers:
            env["GUNICORN_WORKERS"] = str(workers)
        if threads:
            env["GUNICORN_THREADS"] = str(threads)
        env.update(extra)
        return env

    def nginx_values(self, facts: Mapping[str, object]) -> dict[str, str]:
        """The template's values for this run; the limits are the app's own (``facts``)."""
        tunnel, _internal = self.relay_ports[0] if self.relay_ports else (free_port(), 0)
        return {
            "VISIONA_LISTEN": f"127.0.0.1:{self.nginx_port}",
            "VISIONA_SERVER_NAME": "_",
            # Unused on loopback (addresses only) but required by the directive.
            "VISIONA_RESOLVER": "127.0.0.1",
            "VISIONA_WEB": f"127.0.0.1:{self.web_port}",
            "VISIONA_RELAY_TUNNEL": f"127.0.0.1:{tunnel}",
            "VISIONA_OFFLOAD": "files relay",
            "VISIONA_HTTPS_ORIGIN": "",
            "VISIONA_ACCESS_LOG": str(self.work / "nginx" / "access.log"),
            "VISIONA_STATIC_ROOT": str(self.static_root),
            "VISIONA_MODELS_ROOT": str(facts["models_root"]),
            "VISIONA_BODY_LIMIT": "4m",
            "VISIONA_CONVERSION_UPLOAD_LIMIT": str(facts["conversion_upload_limit"]),
            "VISIONA_MODELS_UPLOAD_LIMIT": str(facts["models_upload_limit"]),
            "VISIONA_RELAY_BODY_LIMIT": str(facts["relay_body_limit"]),
        }

    # --- life ------------------------------------------------------------------------
    def __enter__(self) -> LoopbackStack:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._prepare()
            for index, (tunnel, internal) in enumerate(self.relay_ports):
                ports = ["--tunnel-port", str(tunnel), "--internal-port", str(internal)]
                relay = [sys.executable, "manage.py", "run_relay", "--host", "127.0.0.1"]
                self._spawn(f"relay-{index}", [*relay, *ports])
            if self.sandbox_port:
                self._spawn("sandbox", self._sandbox_command(), env=self._sandbox_env())
            gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)]
            self._spawn("gunicorn", [*gunicorn, "visiona.wsgi:application"])
            self._spawn("nginx", self._nginx_command())
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.migrate:
            subprocess.run(
                [str(ROOT / ".ci" / "ensure-database"), self.database_url],
                check=True,
                capture_output=True,
            )
            self.manage("migrate", "--no-input", "-v0")
        if not (self.static_root / "errors").is_dir():
            self.manage("collectstatic", "--no-input", "-v0")
            self.manage("write_error_pages")
        facts = json.loads(self.manage("shell", "-c", _FACTS).stdout.strip().splitlines()[-1])
        self.write_nginx_config(self.nginx_values(facts))

    def write_nginx_config(self, values: Mapping[str, str]) -> Path:
        """The shipped templates rendered into ``conf.d/``, the shipped includes linked,
        and the main file: what the official image would have at /etc/nginx."""
        run_dir = self.work / "nginx"
        (run_dir / "conf.d").mkdir(parents=True, exist_ok=True)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (run_dir / "temp" / kind).mkdir(parents=True, exist_ok=True)
        link = run_dir / "visiona"
        if not link.exists():
            link.symlink_to(NGINX_DIR / "visiona", target_is_directory=True)
        for template in sorted((NGINX_DIR / "templates").glob("*.template")):
            rendered = render_template(template.read_text(), values)
            (run_dir / "conf.d" / template.name.removesuffix(".template")).write_text(rendered)
        (run_dir / "nginx.conf").write_text(main_config(run_dir))
        return run_dir

    def _nginx_command(self) -> list[str]:
        run_dir = self.work / "nginx"
        return [NGINX, "-p", f"{run_dir}/", "-c", str(run_dir / "nginx.conf"), "-e", "stderr"]

    def _sandbox_command(self) -> list[str]:
        return [sys.executable, "manage.py", "run_sandbox", f"127.0.0.1:{self.sandbox_port}"]

    def _sandbox_env(self) -> dict[str, str]:
        return {
            **self.env,
            "DEBUG": "1",
            "VISIONA_SANDBOX": "1",
            "VISIONA_DATA_DIR": str(self.work / "sandbox-data"),
            "SANDBOX_STAGE_SECONDS": "600",
        }

    def manage(self, *args: str, env: Mapping[str, str] | None = None):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=dict(env or self.env),
            check=True,
            capture_output=True,
            text=True,
        )

    def _spawn(self, name: str, command: list[str], env: Mapping[str, str] | None = None) -> None:
        log = self.work / f"{name}.log"
        with log.open("ab") as stream:
            popen = subprocess.Popen(
                command, cwd=ROOT, env=dict(env or self.env), stdout=stream, stderr=stream
            )
        self.processes.append(Process(name, popen, log))

    def _wait_ready(self) -> None:
        def up(port: int, name: str, check=_listening) -> Callable[[], bool]:
            def ready() -> bool:
                for process in self.processes:
                    process.check()
                return check(port)

            return ready

        for tunnel, internal in self.relay_ports:
            wait_until(up(internal, "relay"), seconds=60, what="a relay node")
            wait_until(up(tunnel, "relay"), seconds=60, what="a relay node's tunnel port")
        if self.sandbox_port:
            wait_until(up(self.sandbox_port, "sandbox"), seconds=60, what="the sandbox")
        wait_until(up(self.web_port, "gunicorn", _answers), seconds=90, what="gunicorn")
        workers = int(self.env.get("GUNICORN_WORKERS") or 2)
        wait_until(lambda: len(self.worker_pids) >= workers, seconds=60, what="gunicorn workers")
        wait_until(up(self.nginx_port, "nginx", _answers), seconds=30, what="nginx")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                # nginx: SIGQUIT is its graceful stop; SIGTERM its fast one.
                process.popen.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=10)
        self.processes.clear()

    def remove(self) -> None:
        """Delete the run's folder (logs included): after ``stop``."""
        shutil.rmtree(self.work, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in self.processes)


# The app's own limits and folders, asked of the app (its settings, in its process).
_FACTS = """
import json
from django.conf import settings
from conversion import limits
models = settings.STORAGES["models"].get("OPTIONS", {}).get("location") or ""
print(json.dumps({
    "models_root": str(models),
    "conversion_upload_limit": limits.max_upload_bytes(),
    "models_upload_limit": settings.MODELS_MAX_UPLOAD_BYTES + 1024 * 1024,
    "relay_body_limit": settings.RELAY_MAX_BODY_BYTES,
}))
"""


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--relays", type=int, default=1)
    parser.add_argument("--sandbox", action="store_true", help="the upstreams' stand-ins")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder")
    options = parser.parse_args(argv)
    if not options.database_url.startswith("postgres") or not options.redis_url:
        parser.error("needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (or the options)")
    stack = LoopbackStack(
        database_url=options.database_url,
        redis_url=options.redis_url,
        relays=options.relays,
        sandbox=options.sandbox,
    )
    with contextlib.ExitStack() as cleanup:
        if not options.keep:
            cleanup.callback(stack.remove)
        cleanup.enter_context(stack)
        print(f"site (nginx):     {stack.base_url}/")
        print(f"gunicorn:         {stack.direct_base_url}/")
        print(f"agents dial:      {stack.tunnel_url}")
        for index, url in enumerate(stack.relay_internal_urls):
            print(f"relay {index} internal: {url}")
        print(f"logs and config:  {stack.work}")
        print("Ctrl-C stops everything.")
        with contextlib.suppress(KeyboardInterrupt):
            signal.signal(signal.SIGTERM, _interrupt)
            while all(process.popen.poll() is None for process in stack.processes):
                time.sleep(0.5)
            for process in stack.processes:
                if process.popen.poll() is not None:
                    print(f"{process.name} exited:\n{process.tail()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
