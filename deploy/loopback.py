"""The production-like stack on loopback: nginx (Debian's, with the shipped configuration)
in front of gunicorn (as the image runs it), relay nodes, PostgreSQL and Redis.

    make stack                   # or: python -m deploy.loopback [--relays 2] [--sandbox]

    with LoopbackStack(database_url=..., redis_url=...) as stack:
        requests.get(stack.url("/healthz"))        # through nginx
        requests.get(stack.direct_url("/healthz")) # straight to gunicorn

Benchmarks (bench/) and the end-to-end tests (the ``loopback_stack`` fixture of
tests/conftest.py) run on it. The nginx files are the ones under deploy/nginx/, rendered
as the official image renders its templates (deploy/nginx_files.py: ``${NAME}`` and
``$NAME`` of defined variables only), with this run's values (deploy/loopback_config.py,
beside the app's and the relays' environment); only the main file, which names this run's
paths, is written for the run, with the settings of deploy/nginx/nginx.conf.
PostgreSQL and Redis are the ones named (they are not started here).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from deploy import loopback_config, stack_scripts
from deploy.nginx_files import NGINX, ROOT, write_run_config
from deploy.processes import Process, answers, children, free_port, listening, wait_until

GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
__all__ = ["NGINX", "ROOT", "LoopbackStack", "free_port", "wait_until"]


class LoopbackStack:
    """Start with ``with`` (or ``start()`` / ``stop()``).

    ``env``: more environment for the web app and the relays (settings to try);
    ``nginx_values``: template values to use instead of the run's (``VISIONA_OFFLOAD``...);
    ``wsgi``: another application for gunicorn (a benchmark's profiled one);
    ``tls``: the TLS server too (deploy/nginx/tls/, a self-signed certificate made here),
    and the plain one redirecting to it; ``code_root``: another checkout whose code runs
    (a benchmark's older commit, side by side), with this one's nginx and gunicorn files;
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
        nginx_values: Mapping[str, str] | None = None,
        wsgi: str = "visiona.wsgi:application",
        tls: bool = False,
        code_root: Path | None = None,
    ) -> None:
        base = "/dev/shm" if Path("/dev/shm").is_dir() else None
        self.work = Path(work_dir or tempfile.mkdtemp(prefix="visiona-stack-", dir=base))
        self.work.mkdir(parents=True, exist_ok=True)
        self.database_url, self.redis_url = database_url, redis_url
        self.settings_module, self.migrate, self.with_sandbox = settings_module, migrate, sandbox
        self.static_root = Path(static_root or self.work / "static")
        self.data_dir = Path(data_dir or self.work / "data")
        self.tmp_dir = self.work / "tmp"
        self.nginx_port, self.web_port = free_port(), free_port()
        self.relay_ports = [(free_port(), free_port()) for _ in range(relays)]
        self.sandbox_port = free_port() if sandbox else None
        self.processes: list[Process] = []
        self.nginx_overrides = dict(nginx_values or {})
        self.wsgi = wsgi
        self.tls_port = free_port() if tls else None
        # Whose code runs (gunicorn, the relays, manage.py): another checkout for a
        # benchmark's side-by-side run of an older commit; nginx's files are always these.
        self.code_root = Path(code_root or ROOT).resolve()
        self.env = loopback_config.app_env(self, env or {}, workers=workers, threads=threads)

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
        return children(self.gunicorn.popen.pid)

    def pids(self) -> dict[str, list[int]]:
        """Every process of the stack by role (nginx and gunicorn: master, then workers)."""
        found: dict[str, list[int]] = {}
        for process in self.processes:
            role = process.name.split("-")[0]
            pid = process.popen.pid
            found.setdefault(role, []).extend([pid, *children(pid)])
        return found

    @property
    def https_base_url(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

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
            self._spawn("gunicorn", [*gunicorn, self.wsgi])
            self._spawn("nginx", self._nginx_command())
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        if self.migrate:
            subprocess.run(
                [str(ROOT / ".ci" / "ensure-database"), self.database_url],
                check=True,
                capture_output=True,
            )
            self.manage("migrate", "--no-input", "-v0")
        if not (self.static_root / "errors").is_dir():
            # This checkout's files, whatever code runs: nginx serves them.
            mine = {**self.env, "PYTHONPATH": str(ROOT)}
            self.manage("collectstatic", "--no-input", "-v0", env=mine, cwd=ROOT)
            self.manage("write_error_pages", env=mine, cwd=ROOT)
        facts = json.loads(
            self.manage("shell", "-c", stack_scripts.FACTS).stdout.strip().splitlines()[-1]
        )
        self.write_nginx_config(loopback_config.nginx_values(self, facts))

    def write_nginx_config(self, values: Mapping[str, str]) -> Path:
        """deploy/nginx/ as the official image would have it, for this run."""
        return write_run_config(self.work / "nginx", values, tls=bool(self.tls_port))

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

    def manage(self, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=cwd or self.code_root,
            env=dict(env or self.env),
            check=True,
            capture_output=True,
            text=True,
        )

    def _spawn(self, name: str, command: list[str], env: Mapping[str, str] | None = None) -> None:
        log = self.work / f"{name}.log"
        with log.open("ab") as stream:
            popen = subprocess.Popen(
                command,
                cwd=self.code_root,
                env=dict(env or self.env),
                stdout=stream,
                stderr=stream,
            )
        self.processes.append(Process(name, popen, log))

    def _wait_ready(self) -> None:
        def up(port: int, name: str, check=listening) -> Callable[[], bool]:
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
        wait_until(up(self.web_port, "gunicorn", answers), seconds=90, what="gunicorn")
        workers = int(self.env.get("GUNICORN_WORKERS") or 2)
        wait_until(lambda: len(self.worker_pids) >= workers, seconds=60, what="gunicorn workers")
        wait_until(up(self.nginx_port, "nginx", answers), seconds=30, what="nginx")

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

    def sessions(self, usernames: list[str]) -> list[str]:
        """A signed-in session (its key) for each user (made if new), stored in Redis as a
        password sign-in stores it: the cookie ``visiona_session`` for benchmarks."""
        env = {**self.env, "STACK_USERNAMES": " ".join(usernames)}
        out = self.manage("shell", "-c", stack_scripts.SESSIONS, env=env)
        return out.stdout.split()[-len(usernames) :]

    def tokens(self, usernames: list[str], *, scopes: str = "read convert deploy") -> list[str]:
        """A personal API token (its secret) for each user (made if new)."""
        env = {**self.env, "STACK_USERNAMES": " ".join(usernames)}
        out = self.manage("shell", "-c", stack_scripts.TOKENS.replace("SCOPES", scopes), env=env)
        return out.stdout.split()[-len(usernames) :]

    def remove(self) -> None:
        """Delete the run's folder (logs included): after ``stop``."""
        shutil.rmtree(self.work, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in self.processes)


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
