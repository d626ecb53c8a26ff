"""What the loopback stack's processes are given (deploy/loopback.py): the environment
of the web app and the relay nodes (production's settings, on loopback ports), and the
values deploy/nginx/'s templates are rendered with for the run."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

from deploy.nginx_files import ROOT, self_signed_certificate
from deploy.processes import free_port

if TYPE_CHECKING:
    from deploy.loopback import LoopbackStack


def app_env(
    stack: LoopbackStack, extra: Mapping[str, str], *, workers: int | None, threads: int | None
) -> dict[str, str]:
    """The web app's and the relays' environment: production's settings on loopback."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "REDIS_URL", "CI", "DJANGO_SETTINGS_MODULE")
    }
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": stack.settings_module,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback: TLS ends in nginx in production (deploy/nginx/tls/).
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_SSL_REDIRECT": "0",
        "TRUSTED_PROXIES": "127.0.0.1",
        "TRUST_X_FORWARDED_PROTO": "1",
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
        "VISIONA_DATA_DIR": str(stack.data_dir),
        "VISIONA_STATIC_ROOT": str(stack.static_root),
        "RELAY_INTERNAL_SECRET": secrets.token_urlsafe(60),
        "RELAY_PUBLIC_URL": stack.tunnel_url,
        "GUNICORN_BIND": f"127.0.0.1:{stack.web_port}",
        # Whatever the app spools (Django's upload temporary files) lands here.
        "TMPDIR": str(stack.tmp_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if stack.sandbox_port:
        sandbox = f"http://127.0.0.1:{stack.sandbox_port}/sandbox"
        env.update(
            CONVERTER_BASE_URL=f"{sandbox}/converter",
            FAA_BASE_URL=f"{sandbox}/faa",
            MC_SERVICE_ISSUER=f"{sandbox}/mc",
            MC_SERVICE_CLIENT_ID="visiona-sandbox",
            MC_SERVICE_CLIENT_SECRET="sandbox-secret",
        )
    if stack.code_root != ROOT:
        # Its own packages first (the agent's distribution included), then the venv's.
        env["PYTHONPATH"] = os.pathsep.join(
            [str(stack.code_root), str(stack.code_root / "client"), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    env.update(extra)
    return env


def nginx_values(stack: LoopbackStack, facts: Mapping[str, object]) -> dict[str, str]:
    """deploy/nginx/'s template values for this run; the limits are the app's own."""
    tunnel, _internal = stack.relay_ports[0] if stack.relay_ports else (free_port(), 0)
    return {
        "VISIONA_LISTEN": f"127.0.0.1:{stack.nginx_port}",
        "VISIONA_SERVER_NAME": "_",
        # Unused on loopback (addresses only) but required by the directive.
        "VISIONA_RESOLVER": "127.0.0.1",
        "VISIONA_WEB": f"127.0.0.1:{stack.web_port}",
        "VISIONA_WEB_SERVER_OPTIONS": "",
        "VISIONA_RELAY_TUNNEL": f"127.0.0.1:{tunnel}",
        "VISIONA_OFFLOAD": "files relay",
        "VISIONA_HTTPS_ORIGIN": "",
        "VISIONA_ACCESS_LOG": str(stack.work / "nginx" / "access.log"),
        "VISIONA_STATIC_ROOT": str(stack.static_root),
        "VISIONA_MODELS_ROOT": str(facts["models_root"]),
        "VISIONA_BODY_LIMIT": "4m",
        "VISIONA_CONVERSION_UPLOAD_LIMIT": str(facts["conversion_upload_limit"]),
        "VISIONA_MODELS_UPLOAD_LIMIT": str(facts["models_upload_limit"]),
        "VISIONA_RELAY_BODY_LIMIT": str(facts["relay_body_limit"]),
        "VISIONA_RUNS_UPLOAD_LIMIT": str(facts["runs_upload_limit"]),
        "VISIONA_REFERENCE_UPLOAD_LIMIT": str(facts["reference_upload_limit"]),
        **_tls_values(stack),
        **stack.nginx_overrides,
    }


def _tls_values(stack: LoopbackStack) -> dict[str, str]:
    if not stack.tls_port:
        return {}
    certificate, key = self_signed_certificate(stack.work / "tls")
    return {
        "VISIONA_TLS_LISTEN": f"127.0.0.1:{stack.tls_port}",
        "VISIONA_TLS_CERTIFICATE": str(certificate),
        "VISIONA_TLS_CERTIFICATE_KEY": str(key),
        "VISIONA_HTTPS_ORIGIN": stack.https_base_url,
    }
