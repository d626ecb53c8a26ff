"""The agent's state folder: who it is paired with, and its device token.

One JSON file, ``state.json``, readable by its owner only (0600) in a folder
only its owner may enter (0700). It is written to a temporary file in the same
folder and renamed over the old one, so a crash never leaves half a token.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

STATE_FILE_NAME = "state.json"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class StateError(Exception):
    """The state folder cannot be read or written, or holds no pairing."""


@dataclass(frozen=True)
class State:
    server: str
    device_id: str
    # Never in a repr, so never in a log line or a traceback by accident.
    token: str = field(repr=False)
    paired_at: str
    token_expires_at: str = ""
    serial: str = ""
    chip: str = ""
    heartbeat_interval_seconds: int = 30


def default_state_dir() -> Path:
    """``$XDG_CONFIG_HOME/visiona-agent``, else ``~/.config/visiona-agent``.

    On Windows: ``%APPDATA%\\visiona-agent``.
    """
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "visiona-agent"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "visiona-agent"


def state_path(state_dir: Path) -> Path:
    return Path(state_dir) / STATE_FILE_NAME


def save(state_dir: Path, state: State) -> Path:
    """Write the state atomically, 0600 in a 0700 folder. Returns the file's path."""
    folder = Path(state_dir)
    try:
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        # mkdir's mode does not apply to a folder that already existed.
        os.chmod(folder, FOLDER_MODE)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".state-", suffix=".tmp")
    except OSError as exc:
        raise StateError(f"cannot write the state folder {folder}: {exc.strerror}") from None
    try:
        # mkstemp already creates 0600; said again so no umask or platform can widen it.
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(state), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, state_path(folder))
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise StateError(f"cannot write {state_path(folder)}: {exc.strerror}") from None
    return state_path(folder)


def load(state_dir: Path) -> State:
    """The saved pairing; StateError when there is none or it is unreadable."""
    path = state_path(state_dir)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StateError(
            f"this machine is not paired (no {path}). Pair it first: "
            "visiona-agent pair --server URL --code CODE"
        ) from None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from None
    if os.name != "nt" and mode & 0o077:
        logger.warning("%s is readable by others (mode %o); setting it to 0600", path, mode)
        with contextlib.suppress(OSError):
            os.chmod(path, FILE_MODE)
    try:
        data = json.loads(text)
        return State(
            server=str(data["server"]),
            device_id=str(data["device_id"]),
            token=str(data["token"]),
            paired_at=str(data.get("paired_at", "")),
            token_expires_at=str(data.get("token_expires_at", "")),
            serial=str(data.get("serial", "")),
            chip=str(data.get("chip", "")),
            heartbeat_interval_seconds=int(data.get("heartbeat_interval_seconds") or 30),
        )
    except (ValueError, KeyError, TypeError):
        raise StateError(f"{path} is damaged; pair this machine again") from None
