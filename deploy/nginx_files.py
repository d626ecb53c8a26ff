"""The shipped nginx files for one run: the templates rendered as the official image
renders them, the includes linked, and a main file naming the run's own paths.
(deploy/loopback.py; docs/streams.md.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "deploy" / "nginx"
NGINX = os.environ.get("VISIONA_NGINX", shutil.which("nginx") or "/usr/sbin/nginx")
MIME_TYPES = Path("/etc/nginx/mime.types")
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

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
    temp = "\n".join(f"    {kind}_temp_path {run_dir / 'temp' / kind};" for kind in TEMP_KINDS)
    return (
        f"{user}daemon off;\n"
        f"worker_processes {worker_processes};\n"
        f"pid {run_dir / 'nginx.pid'};\n"
        f"error_log {run_dir / 'error.log'} warn;\n"
        "events {\n    worker_connections 16384;\n}\n"
        "http {\n"
        f"    include {MIME_TYPES};\n"
        f"{temp}\n"
        "    include conf.d/*.conf;\n"
        "}\n"
    )


def write_run_config(run_dir: Path, values: Mapping[str, str], *, tls: bool) -> Path:
    """The shipped templates rendered into ``conf.d/`` (the TLS one too with ``tls``),
    the shipped includes linked, and the main file: what the official image would
    have at /etc/nginx. Returns the main file."""
    (run_dir / "conf.d").mkdir(parents=True, exist_ok=True)
    for kind in TEMP_KINDS:
        (run_dir / "temp" / kind).mkdir(parents=True, exist_ok=True)
    link = run_dir / "visiona"
    if not link.exists():
        link.symlink_to(NGINX_DIR / "visiona", target_is_directory=True)
    templates = sorted((NGINX_DIR / "templates").glob("*.template"))
    if tls:
        templates += sorted((NGINX_DIR / "tls").glob("*.template"))
    for template in templates:
        rendered = render_template(template.read_text(), values)
        (run_dir / "conf.d" / template.name.removesuffix(".template")).write_text(rendered)
    main = run_dir / "nginx.conf"
    main.write_text(main_config(run_dir))
    return main


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (made once per folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    certificate, key = folder / "certificate.pem", folder / "key.pem"
    if not certificate.exists():
        request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        files = ["-keyout", str(key), "-out", str(certificate)]
        subprocess.run([*request, *subject, *files], check=True, capture_output=True)
    return certificate, key
