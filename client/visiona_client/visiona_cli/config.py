"""Where ``visiona`` keeps its server and token: one JSON file, 0600, in a 0700 folder.

``$VISIONA_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/visiona`` or ``~/.config/visiona``
(``%APPDATA%\\visiona`` on Windows). ``VISIONA_TOKEN`` and ``VISIONA_SERVER`` in the
environment take precedence over the file (for CI, where nothing is stored).

The file: ``{"server", "token", "tokens": {origin: token}}``: the server and token of
the last login, and every login's token under its server's origin
(``https://host:port``), so a stored token is only ever sent to the server it was
made for. A file from before ``tokens`` (server and token only) reads as one entry.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CONFIG_FILE_NAME = "config.json"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    server: str = ""
    token: str = field(default="", repr=False)
    # Every stored login's token by its server's origin (see origin()).
    tokens: dict[str, str] = field(default_factory=dict, repr=False)

    def token_for(self, server: str) -> str:
        """The token stored for ``server``'s origin, or "" (never another server's)."""
        key = origin(server)
        return self.tokens.get(key, "") if key else ""


def origin(server: str) -> str:
    """``scheme://host:port`` of a server URL (the port spelt out, the host lowercased),
    or "" when it is not an http(s) URL: what a stored token is bound to."""
    try:
        parts = urlsplit(server.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port}"


def config_dir() -> Path:
    if os.environ.get("VISIONA_CONFIG_DIR"):
        return Path(os.environ["VISIONA_CONFIG_DIR"])
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "visiona"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "visiona"


def config_path() -> Path:
    return config_dir() / CONFIG_FILE_NAME


def load_stored() -> Config:
    path = config_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc.__class__.__name__}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} is not a visiona configuration")
    server = str(raw.get("server") or "")
    token = str(raw.get("token") or "")
    listed = raw.get("tokens")
    if not isinstance(listed, dict):
        listed = {}
    tokens = {str(key): str(value) for key, value in listed.items() if key and value}
    if server and token and origin(server):
        tokens.setdefault(origin(server), token)
    return Config(server=server, token=token, tokens=tokens)


def with_login(stored: Config, server: str, token: str) -> Config:
    """``stored`` with a new login: it becomes the default server, the others stay."""
    return Config(server=server, token=token, tokens={**stored.tokens, origin(server): token})


def save(config: Config) -> Path:
    """Atomically: a temporary file (0600) in the folder (0700), renamed over the old."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, FOLDER_MODE)
    path = folder / CONFIG_FILE_NAME
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".config-", suffix=".tmp")
    try:
        os.fchmod(descriptor, FILE_MODE) if hasattr(os, "fchmod") else None
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(
                {"server": config.server, "token": config.token, "tokens": config.tokens}, handle
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path
