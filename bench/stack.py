"""A production-like stack for the benchmarks: gunicorn, DEBUG=0, PostgreSQL, Redis,
and the converter stand-in (``manage.py run_sandbox``) in its own process.

    with Stack(workers=2, threads=8) as stack:
        cookie = stack.session("bench1")
        ...

``BENCH_CODE_ROOT``: another checkout whose code runs (gunicorn, the stand-ins, manage.py),
for a side-by-side run of an older commit (bench/compare_code.py); default this one.

Databases: ``BENCH_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/visiona_bench,
created and migrated if missing) and ``BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/11);
only this run's key prefix is removed from Redis at the end.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(os.environ.get("BENCH_CODE_ROOT") or Path(__file__).resolve().parent.parent).resolve()
PYTHON = sys.executable
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/visiona_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, *, seconds: float = 60) -> None:
    """Until ``url`` answers at all: a slow first answer (imports, a cold cache) is waited for."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up") from None
            time.sleep(0.2)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Stack:
    def __init__(
        self,
        *,
        workers: int = 2,
        threads: int = 8,
        extra_env: dict | None = None,
        sandbox_env: dict | None = None,
        wsgi: str = "visiona.wsgi",
        tmpfs: bool = True,
    ) -> None:
        self.workers, self.threads, self.wsgi = workers, threads, wsgi
        base = "/dev/shm" if tmpfs and Path("/dev/shm").is_dir() else None
        self.work = Path(tempfile.mkdtemp(prefix="visiona-bench-", dir=base))
        self.visiona_tmp = self.work / "visiona-tmp"
        self.visiona_tmp.mkdir()
        self.sandbox_port, self.app_port = free_port(), free_port()
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.base = f"http://127.0.0.1:{self.app_port}"
        inherited = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CI")
        }
        if os.environ.get("BENCH_CODE_ROOT"):
            # That checkout's packages (the agent's distribution too) before the venv's.
            inherited["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "client")])
        self.sandbox_env = {
            **inherited,
            "DEBUG": "1",
            "VISIONA_SANDBOX": "1",
            # The stand-in's files in memory (tmpfs): disk speed is not what is measured.
            "VISIONA_DATA_DIR": str(self.work / "sandbox-data"),
            "SANDBOX_STAGE_SECONDS": "600",
            "LOG_LEVEL": "WARNING",
            **(sandbox_env or {}),
        }
        self.env = {
            **inherited,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback (TLS ends in front in production)
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "VISIONA_SANDBOX": "0",
            "CONVERTER_BASE_URL": f"{self.sandbox}/sandbox/converter",
            "FAA_BASE_URL": f"{self.sandbox}/sandbox/faa",
            "MC_SERVICE_ISSUER": f"{self.sandbox}/sandbox/mc",
            "MC_SERVICE_CLIENT_ID": "visiona-sandbox",
            "MC_SERVICE_CLIENT_SECRET": "sandbox-secret",
            "VISIONA_DATA_DIR": str(self.work / "visiona-data"),
            "TMPDIR": str(self.visiona_tmp),  # anything visionA spools would land here
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.sandbox_proc: subprocess.Popen | None = None
        self.app: subprocess.Popen | None = None

    def manage(self, *args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env or self.env,
            check=True,
            capture_output=True,
            text=True,
            **kwargs,
        )

    def __enter__(self) -> Stack:
        subprocess.run(
            [str(ROOT / ".ci/ensure-database"), DATABASE_URL], check=True, capture_output=True
        )
        self.manage("migrate", "-v0")
        self._clear_cache()  # a run that was killed leaves its tokens and budget behind
        self.sandbox_proc = subprocess.Popen(
            [PYTHON, "manage.py", "run_sandbox", f"127.0.0.1:{self.sandbox_port}"],
            cwd=ROOT,
            env=self.sandbox_env,
            stdout=subprocess.DEVNULL,
        )
        self.app = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                self.wsgi,
                "-k",
                "gthread",
                "-w",
                str(self.workers),
                "--threads",
                str(self.threads),
                "-b",
                f"127.0.0.1:{self.app_port}",
                "--log-level",
                "warning",
                "--timeout",
                "1800",
                "--worker-tmp-dir",
                "/dev/shm",
            ],
            cwd=ROOT,
            env=self.env,
        )
        try:
            wait_for(f"{self.sandbox}/sandbox/converter/health")
            wait_for(f"{self.base}/healthz")
            deadline = time.monotonic() + 30
            while len(children(self.app.pid)) < self.workers and time.monotonic() < deadline:
                time.sleep(0.1)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for proc in (self.app, self.sandbox_proc):
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in (self.app, self.sandbox_proc):
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        with contextlib.suppress(subprocess.CalledProcessError):
            self._clear_cache()
        shutil.rmtree(self.work, ignore_errors=True)

    def _clear_cache(self) -> None:
        self.manage("shell", "-c", "from django.core.cache import cache; cache.delete_pattern('*')")

    @property
    def workers_pids(self) -> list[int]:
        return children(self.app.pid)

    def sessions(self, usernames: list[str]) -> list[str]:
        """A signed-in session (its key) for each new user, in Redis like a real sign-in."""
        script = (
            "import sys, time\n"
            "from importlib import import_module\n"
            "from django.conf import settings\n"
            "from django.contrib.auth import get_user_model\n"
            "from visiona.sessions import start_session_clock\n"
            "Store = import_module(settings.SESSION_ENGINE).SessionStore\n"
            "for name in sys.argv[1:]:\n"
            "    u, _ = get_user_model().objects.get_or_create(username=name,"
            " defaults={'oidc_sub': 'sub-' + name})\n"
            "    s = Store(); s['_auth_user_id'] = str(u.pk)\n"
            "    s['_auth_user_backend'] = 'visiona.auth.backends.PasswordBackend'\n"
            "    s['_auth_user_hash'] = u.get_session_auth_hash()\n"
            "    start_session_clock(s, time.time()); s.create(); print(s.session_key)\n"
        )
        out = subprocess.run(
            [PYTHON, "-c", _DJANGO_SETUP + script, *usernames],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.split()

    @property
    def session_cookie(self) -> str:
        return "visiona_session"


_DJANGO_SETUP = (
    "import os, django\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'visiona.settings')\n"
    "django.setup()\n"
)
