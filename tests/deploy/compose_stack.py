"""compose.yaml run without Docker: every service's command and environment as processes
on loopback, in the order and with the conditions its ``depends_on`` says.

What Docker would give each container is given here instead, and nothing more:
- its own ports and folders: a free loopback port for each port the service listens
  on (web's 8000, relay's 3800/3801, nginx's 8080/8443), its own data and run folders;
- names: a URL whose host is a service (postgres, redis) is rewritten to its stand-in
  (the test's PostgreSQL database, the run's Redis with a key prefix of its own), and
  nginx finds ``web`` and ``relay`` at their replicas' loopback ports, as Docker's DNS
  answers a service's name with every replica's address: the ``server web:8000 ...;``
  line of an upstream block becomes one line per replica (without ``resolve``, which
  Debian's older nginx lacks and addresses do not need), and a name nginx looks up per
  request (the tunnel's ``relay:3800``) an upstream group of the replicas;
- named volumes: one folder each, where every service that mounts it finds it (an app
  role's under its data folder, nginx's at the path its templates are given);
- the image: the app roles run ``deploy/docker-entrypoint.sh`` from the checkout, with
  the static files collected as the Dockerfile's build collects them; nginx is Debian's,
  with the shipped templates rendered from the nginx service's ``environment``.

Health checks are the compose file's own commands, run as processes with the
service's environment: a service counts as healthy when its command exits 0.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from deploy.nginx_files import MIME_TYPES, NGINX, main_config, render_template
from deploy.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
NGINX_DIR = ROOT / "deploy" / "nginx"
# Services the test does not run: stand-ins take their place (``StandIns``).
STAND_IN_SERVICES = frozenset({"postgres", "redis"})
# The app image's data folder (VISIONA_DATA_DIR), where a replica's own folder stands in.
IMAGE_DATA_DIR = "/app/var"
# The ports each kind of service listens on in its container.
CONTAINER_PORTS = {"web": ("8000",), "relay": ("3800", "3801"), "nginx": ("8080", "8443")}
# What nginx reaches of each service, by name: Docker's DNS gives every replica.
UPSTREAM_PORTS = {"web": "8000", "relay": "3800"}
# An upstream block's server line naming a service whose replicas nginx reaches.
_UPSTREAM_SERVER = re.compile(
    rf"^([ \t]*)server ({'|'.join(UPSTREAM_PORTS)})(?::\d+)?((?:[ \t]+[^;\s]+)*)[ \t]*;\n",
    re.M,
)
_INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose's interpolation: ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}``, ``$$``."""

    def value(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        given = variables.get(name, "")
        if operator in (":-", "-"):
            return given or argument
        if operator in (":?", "?") and not given:
            raise KeyError(f"compose needs {name}: {argument}")
        return given

    return _INTERPOLATION.sub(value, text)


def load_compose(variables: Mapping[str, str] | None = None) -> dict:
    text = interpolate(COMPOSE_FILE.read_text(), variables or {})
    return yaml.safe_load(text)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def as_command(value) -> list[str]:
    return value if isinstance(value, list) else ["sh", "-c", value]


@dataclass
class StandIns:
    """Where the services the test does not run are found on loopback."""

    database_url: str
    redis_url: str
    site_port: int  # nginx's TLS port: the site's https:// and wss:// URLs

    @property
    def site_url(self) -> str:
        return f"https://127.0.0.1:{self.site_port}"

    def rewrite(self, value: str) -> str:
        parts = urlsplit(value)
        if not parts.scheme or not parts.hostname:
            return value
        if parts.hostname == "postgres":
            return self.database_url
        if parts.hostname == "redis":
            return self.redis_url
        if parts.scheme in ("https", "wss") and parts.hostname == "127.0.0.1" and not parts.port:
            return urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.site_port}"))
        return value


@dataclass
class Replica:
    service: str
    index: int
    ports: dict[str, int]  # container port -> loopback port
    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    mounts: dict[str, Path] = field(default_factory=dict)  # container path -> folder
    process: subprocess.Popen | None = None

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index}"

    @property
    def log(self) -> Path:
        return self.folder / "output.log"

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class ComposeStack:
    def __init__(
        self,
        *,
        compose: dict,
        env_file: dict[str, str],
        stand_ins: StandIns,
        work: Path,
        extra_env: Mapping[str, str],
        nginx_paths: Mapping[str, str],
    ) -> None:
        self.compose, self.services = compose, compose["services"]
        self.env_file, self.stand_ins, self.work = env_file, stand_ins, work
        self.extra_env, self.nginx_paths = dict(extra_env), dict(nginx_paths)
        self.volumes = {name: work / "volumes" / name for name in compose.get("volumes") or {}}
        for folder in self.volumes.values():
            folder.mkdir(parents=True)
        self.replicas: dict[str, list[Replica]] = {}
        for name, service in self.services.items():
            if name in STAND_IN_SERVICES:
                continue
            count = int(service.get("deploy", {}).get("replicas", 1))
            self.replicas[name] = [self._replica(name, index) for index in range(count)]

    # --- what each process gets -----------------------------------------------------
    def _replica(self, service: str, index: int) -> Replica:
        kind = service if service in CONTAINER_PORTS else "app"
        ports = {port: free_port() for port in CONTAINER_PORTS.get(kind, ())}
        if service == "nginx":
            ports["8443"] = self.stand_ins.site_port
        folder = self.work / f"{service}-{index}"
        (folder / "data").mkdir(parents=True)
        replica = Replica(service, index, ports, folder)
        for mount in self.services[service].get("volumes") or []:
            source, target = mount.split(":")[:2]
            if source in self.volumes:
                replica.mounts[target] = self.volumes[source]
                if target.startswith(IMAGE_DATA_DIR + "/"):
                    inside = folder / "data" / target.removeprefix(IMAGE_DATA_DIR + "/")
                    inside.parent.mkdir(parents=True, exist_ok=True)
                    inside.symlink_to(self.volumes[source], target_is_directory=True)
        replica.env = self._environment(replica)
        return replica

    def _environment(self, replica: Replica) -> dict[str, str]:
        service = self.services[replica.service]
        values = dict(self.env_file) if service.get("env_file") else {}
        values.update({k: str(v) for k, v in (service.get("environment") or {}).items()})
        values = {name: self.stand_ins.rewrite(value) for name, value in values.items()}
        if replica.service == "nginx":
            return values
        # What the container itself would be: its own folders, its ports, the image's PATH.
        values.update(
            VISIONA_DATA_DIR=str(replica.folder / "data"),
            VISIONA_RUN_DIR=str(replica.folder),
            VISIONA_LISTEN_HOST="127.0.0.1",
            PORT=str(replica.ports.get("8000", 8000)),
            RELAY_TUNNEL_PORT=str(replica.ports.get("3800", 3800)),
            RELAY_INTERNAL_PORT=str(replica.ports.get("3801", 3801)),
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            HOME=str(replica.folder),
            PYTHONDONTWRITEBYTECODE="1",
        )
        values.update(self.extra_env)
        return values

    def port(self, service: str, container_port: str, index: int = 0) -> int:
        return self.replicas[service][index].ports[container_port]

    # --- starting, in depends_on order -------------------------------------------------
    def start(self, *, before_nginx: Callable[[ComposeStack], None] | None = None) -> None:
        started: set[str] = set()
        while len(started) < len(self.replicas):
            ready = [
                name
                for name in self.replicas
                if name not in started
                and all(
                    dependency in STAND_IN_SERVICES or dependency in started
                    for dependency in self.services[name].get("depends_on") or {}
                )
            ]
            assert ready, f"depends_on has a cycle among {set(self.replicas) - started}"
            for name in ready:
                if name == "nginx" and before_nginx:
                    before_nginx(self)
                self._start_service(name)
                started.add(name)

    def _start_service(self, name: str) -> None:
        for replica in self.replicas[name]:
            command = self._nginx_command(replica) if name == "nginx" else self._app_command(name)
            with replica.log.open("ab") as output:
                replica.process = subprocess.Popen(
                    command, cwd=ROOT, env=replica.env, stdout=output, stderr=output
                )
        if self.one_shot(name):
            for replica in self.replicas[name]:
                code = replica.process.wait(timeout=600)
                assert code == 0, f"{replica.name} exited {code}:\n{replica.tail()}"
        else:
            self.wait_healthy(name)

    def one_shot(self, name: str) -> bool:
        return self.services[name].get("restart") == "no"

    def _app_command(self, name: str) -> list[str]:
        service = self.services[name]
        assert service["image"] == self.services["web"]["image"], f"{name}: not the app image"
        return [str(ENTRYPOINT), *as_command(service.get("command") or ["web"])]

    # --- health ------------------------------------------------------------------------
    def health_command(self, replica: Replica) -> list[str]:
        """The service's compose health check, as this machine runs it."""
        test = self.services[replica.service]["healthcheck"]["test"]
        assert test[0] == "CMD", f"{replica.service}: a CMD health check, not {test[0]}"
        command = []
        for argument in test[1:]:
            if argument == "python":
                argument = sys.executable
            elif argument.startswith("/app/"):
                argument = str(ROOT / argument.removeprefix("/app/"))
            for inside, outside in replica.ports.items():
                argument = argument.replace(f"127.0.0.1:{inside}/", f"127.0.0.1:{outside}/")
            command.append(argument)
        return command

    def healthy(self, replica: Replica) -> bool:
        if replica.process.poll() is not None:
            raise AssertionError(f"{replica.name} exited:\n{replica.tail()}")
        result = subprocess.run(
            self.health_command(replica),
            cwd="/",
            env=replica.env,
            capture_output=True,
            timeout=60,
        )
        return result.returncode == 0

    def wait_healthy(self, name: str, *, timeout: float = 180) -> None:
        for replica in self.replicas[name]:
            deadline = time.monotonic() + timeout
            while not self.healthy(replica):
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{replica.name} not healthy in {timeout} s:\n{replica.tail()}"
                    )
                time.sleep(0.5)

    # --- nginx -------------------------------------------------------------------------
    def _nginx_command(self, replica: Replica) -> list[str]:
        run_dir = replica.folder
        (run_dir / "conf.d").mkdir(exist_ok=True)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (run_dir / "temp" / kind).mkdir(parents=True, exist_ok=True)
        (run_dir / "visiona").symlink_to(NGINX_DIR / "visiona", target_is_directory=True)
        values = {name: self._nginx_value(value, replica) for name, value in replica.env.items()}
        templates = [
            *(NGINX_DIR / "templates").glob("*.template"),
            *(NGINX_DIR / "tls").glob("*.template"),
        ]
        for template in templates:
            rendered = self._replica_servers(render_template(template.read_text(), values))
            (run_dir / "conf.d" / template.name.removesuffix(".template")).write_text(rendered)
        # Docker's DNS answers a service name with its replicas; here, upstream groups.
        groups = UPSTREAM_PORTS
        upstreams = "".join(
            f"upstream {service} {{\n"
            + "".join(f"    server 127.0.0.1:{r.ports[port]};\n" for r in self.replicas[service])
            + "}\n"
            for service, port in groups.items()
        )
        (run_dir / "conf.d" / "loopback-upstreams.conf").write_text(upstreams)
        (run_dir / "nginx.conf").write_text(main_config(run_dir))
        assert MIME_TYPES.exists()
        return [NGINX, "-p", f"{run_dir}/", "-c", str(run_dir / "nginx.conf"), "-e", "stderr"]

    def _replica_servers(self, rendered: str) -> str:
        """An upstream block's ``server <service>:<port> [options];`` as Docker's DNS
        would make it: one server per replica, at its loopback port."""

        def servers(match: re.Match) -> str:
            indent, service, options = match.group(1), match.group(2), match.group(3).split()
            options = [option for option in options if option != "resolve"]
            return "".join(
                f"{indent}{' '.join(['server', f'127.0.0.1:{replica.ports[port]}', *options])};\n"
                for replica in self.replicas[service]
                for port in [UPSTREAM_PORTS[service]]
            )

        return _UPSTREAM_SERVER.sub(servers, rendered)

    def _nginx_value(self, value: str, replica: Replica) -> str:
        if value in replica.ports:  # a listen port
            return f"127.0.0.1:{replica.ports[value]}"
        service, _, port = value.partition(":")
        if service in self.replicas and port == UPSTREAM_PORTS.get(service):
            # "web:8000": the upstream group of web's replicas (an explicit group matches
            # only a name without a port).
            return service
        paths = {**self.nginx_paths, **{k: str(v) for k, v in replica.mounts.items()}}
        for inside, outside in paths.items():
            if value == inside or value.startswith(inside + "/"):
                return outside + value.removeprefix(inside)
        return value

    # --- stopping ------------------------------------------------------------------------
    def stop_service(self, name: str) -> None:
        for replica in self.replicas[name]:
            if replica.process and replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in self.replicas[name]:
            if replica.process:
                try:
                    replica.process.wait(timeout=45)
                except subprocess.TimeoutExpired:
                    replica.process.kill()
                    replica.process.wait(timeout=15)

    def stop(self) -> None:
        for name in reversed(list(self.replicas)):
            self.stop_service(name)

    def logs(self) -> str:
        return "\n".join(
            f"--- {replica.name} ---\n{replica.tail()}"
            for replicas in self.replicas.values()
            for replica in replicas
        )
