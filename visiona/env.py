"""Typed readers for settings that come from the environment.

Every reader takes a default so a fresh checkout runs without configuration,
and rejects a malformed value with ImproperlyConfigured instead of guessing.
"""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# A DNS name (labels of letters, digits and inner hyphens) or an IPv4 address: the host
# names botocore accepts in an endpoint URL (botocore.utils.is_valid_endpoint_url).
_HOST_NAME = re.compile(r"^((?!-)[a-z\d-]{1,63}(?<!-)\.)*(?!-)[a-z\d-]{1,63}(?<!-)\.?$", re.I)


def env_origin(name: str) -> str:
    """An http(s) origin, ``https://files.example.com[:port]``, or "" when unset.

    Nothing after the host and port (a lone "/" is dropped): no path, query or
    fragment, and no user name or password.
    """
    raw = env_str(name)
    if not raw:
        return ""
    parts = urlsplit(raw)
    example = "such as https://files.example.com or http://10.0.0.5:9000"
    if parts.username is not None or parts.password is not None:
        # Not echoed: it would put the password in the log.
        raise ImproperlyConfigured(f"{name} must not carry a user name or password")
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    host = parts.hostname or ""
    host_ok = bool(_HOST_NAME.match(host)) or (parts.netloc.startswith("[") and _is_ipv6(host))
    if parts.scheme not in {"http", "https"} or not host_ok or not port_ok:
        raise ImproperlyConfigured(
            f"{name} must be an http:// or https:// address {example}, got {raw!r}"
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise ImproperlyConfigured(
            f"{name} must be a scheme, host and port alone, nothing after them ({example}), "
            f"got {raw!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def database_from_url(url: str, *, conn_max_age: int = 60, connect_timeout: int = 5) -> dict:
    """Turn ``postgres://user:pass@host:port/name?sslmode=require`` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// URL, got scheme {parts.scheme!r}"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL must name a database")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    options.setdefault("connect_timeout", str(connect_timeout))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }
