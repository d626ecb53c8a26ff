"""Where ``visiona`` keeps its server and token: one JSON file, 0600, in a 0700 folder.

``$VISIONA_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/visiona`` or ``~/.config/visiona``
(``%APPDATA%\\visiona`` on Windows). ``VISIONA_TOKEN`` and ``VISIONA_SERVER`` in the
environment take precedence over the file (for CI, where nothing is stored).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_FILE_NAME = "config.json"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    server: str = ""
    token: str = field(default="", repr=False)


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
    return Config(server=str(raw.get("server") or ""), token=str(raw.get("token") or ""))


def load() -> Config:
    """The stored configuration with the environment's values on top."""
    stored = load_stored()
    return Config(
        server=os.environ.get("VISIONA_SERVER") or stored.server,
        token=os.environ.get("VISIONA_TOKEN") or stored.token,
    )


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
            json.dump({"server": config.server, "token": config.token}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path
