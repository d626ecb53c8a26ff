"""The models folder: where the local device API loads models from.

    <dir>/<slug>-<model id>.nef       installed models
    <dir>/manifest.json               a list of {name, file, sha256, size_bytes,
                                      installed_at, deployment_id, model_id}
    <dir>/.previous/<slug>.nef        the model each install replaced (for rollback)
    <dir>/.previous/<slug>.json       its manifest entry
    <dir>/.partial/<id>.part, .json   downloads under way (survive restarts)

A download is verified (size, sha256, the NEF's trailing CRC-32) before anything
here changes. An install never leaves a half-written model at ``<slug>.nef``: the
verified file is fsynced and renamed over it (``os.replace``), after the old one
was linked into ``.previous/``; the manifest is written to a temporary file,
fsynced and renamed likewise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from visiona_client.nef import TrailingCrc

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
PREVIOUS_DIR = ".previous"
PARTIAL_DIR = ".partial"
MODEL_SUFFIX = ".nef"
_READ_BYTES = 1024 * 1024
_SLUG_MAX_CHARS = 80


class VerifyError(Exception):
    """The downloaded file is not the model visionA promised."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # checksum_mismatch or crc_mismatch
        self.message = message


class InstallError(Exception):
    """The disk refused the install (``install_failed``); nothing changed."""


def model_slug(name: str, model_id: Any) -> str:
    """A model's file name (without ``.nef``): its name in ascii lowercase, digits and
    dashes, then its visionA id. The slug alone is for people: "Detector" and
    "detector!" have the same one, so the id is what keeps two models' files apart
    (and the same model, deployed again or renamed, in one file)."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:_SLUG_MAX_CHARS].strip("-")
    number = int(model_id) if str(model_id).isdigit() else 0
    return f"{slug or 'model'}-{number}"


def verify(path: Path, *, sha256: str, size: int) -> None:
    """Raise VerifyError unless ``path`` has ``size`` bytes, that sha256 and a valid CRC-32.

    The NEF's last 4 bytes are the big-endian CRC-32 of everything before them
    (``visiona_client.nef``).
    """
    actual = path.stat().st_size
    if actual != size:
        raise VerifyError("checksum_mismatch", f"the file has {actual} bytes, not {size}")
    digest, crc = hashlib.sha256(), TrailingCrc()
    with open(path, "rb") as handle:
        while chunk := handle.read(_READ_BYTES):
            digest.update(chunk)
            crc.feed(chunk)
    if digest.hexdigest() != sha256.lower():
        raise VerifyError(
            "checksum_mismatch", f"sha256 {digest.hexdigest()} is not the model's {sha256}"
        )
    if not crc.matches():
        raise VerifyError("crc_mismatch", "the NEF's trailing CRC-32 does not match its content")


class ModelsFolder:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def partial_dir(self) -> Path:
        return self.root / PARTIAL_DIR

    @property
    def previous_dir(self) -> Path:
        return self.root / PREVIOUS_DIR

    def ensure(self) -> None:
        self.partial_dir.mkdir(parents=True, exist_ok=True)

    # Downloads under way -------------------------------------------------------

    def part_path(self, deployment_id: str) -> Path:
        return self.partial_dir / f"{deployment_id}.part"

    def part_meta_path(self, deployment_id: str) -> Path:
        return self.partial_dir / f"{deployment_id}.json"

    def partial_ids(self) -> set[str]:
        if not self.partial_dir.is_dir():
            return set()
        return {
            path.stem for path in self.partial_dir.iterdir() if path.suffix in (".part", ".json")
        }

    def discard_partial(self, deployment_id: str) -> None:
        for path in (self.part_path(deployment_id), self.part_meta_path(deployment_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def free_bytes(self) -> int:
        self.ensure()
        return shutil.disk_usage(self.root).free

    # The manifest --------------------------------------------------------------

    def entries(self) -> list[dict[str, Any]]:
        """The installed models; an empty list when there is no (readable) manifest."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            logger.warning("cannot read %s: %s", self.manifest_path, exc)
            return []
        return (
            [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []
        )

    def installed_by(self, deployment_id: str, sha256: str) -> dict[str, Any] | None:
        for entry in self.entries():
            if entry.get("deployment_id") == deployment_id and entry.get("sha256") == sha256:
                return entry
        return None

    # Install -------------------------------------------------------------------

    def install(
        self, source: Path, *, name: str, model_id: Any, sha256: str, deployment_id: str
    ) -> dict[str, Any]:
        """Move a verified file into place and list it; InstallError leaves all as it was."""
        slug = model_slug(name, model_id)
        target = self.root / f"{slug}{MODEL_SUFFIX}"
        entries = self.entries()
        # Files of this same model under another name (renamed on visionA, or installed
        # by an agent that named files by the name alone): this install replaces them.
        older = [
            e
            for e in entries
            if e.get("file") != target.name
            and str(e.get("model_id")) == str(model_id)
            and _is_model_file(e.get("file"))
        ]
        replaced = next((e for e in entries if e.get("file") == target.name), None) or next(
            iter(older), None
        )
        entry = {
            "name": str(name),
            "file": target.name,
            "sha256": sha256,
            "size_bytes": source.stat().st_size,
            "installed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "deployment_id": deployment_id,
            "model_id": model_id,
        }
        had_previous = target.exists()
        earlier = target if had_previous else _first_existing(self.root, older)
        try:
            _fsync_file(source)
            if earlier is not None:
                self.previous_dir.mkdir(exist_ok=True)
                _link_or_copy(earlier, self.previous_dir / target.name)
                _write_json(self.previous_dir / f"{slug}.json", replaced or {"file": target.name})
            os.replace(source, target)
            _fsync_folder(self.root)
        except OSError as exc:
            raise InstallError(f"cannot install {target}: {exc.strerror or exc}") from None
        gone = {target.name, *(e["file"] for e in older)}
        try:
            others = [e for e in entries if e.get("file") not in gone]
            _write_json(self.manifest_path, [*others, entry])
        except OSError as exc:
            self._undo(target, had_previous)
            raise InstallError(
                f"cannot write {self.manifest_path}: {exc.strerror or exc}"
            ) from None
        for old in older:  # listed no more; its bytes are in .previous/ when it existed
            with contextlib.suppress(OSError):
                (self.root / old["file"]).unlink()
        return entry

    def _undo(self, target: Path, had_previous: bool) -> None:
        """The manifest could not be written: put the old model back (best effort)."""
        with contextlib.suppress(OSError):
            if had_previous:
                _link_or_copy(self.previous_dir / target.name, target)
            else:
                target.unlink()


def _is_model_file(name: object) -> bool:
    """A plain ``<name>.nef`` in the folder itself (a manifest is not trusted with paths)."""
    return (
        isinstance(name, str)
        and name.endswith(MODEL_SUFFIX)
        and "/" not in name
        and "\\" not in name
        and not name.startswith(".")
    )


def _first_existing(root: Path, entries: list[dict[str, Any]]) -> Path | None:
    for entry in entries:
        path: Path = root / str(entry["file"])
        if path.is_file():
            return path
    return None


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(path: Path) -> None:
    if os.name == "nt":
        return  # Windows cannot open a folder; its renames are durable on NTFS.
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` becomes the same bytes as ``source``, atomically (never half of them)."""
    temporary = target.with_name(f".{target.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    try:
        os.link(source, temporary)  # no copy, and the old model stays readable throughout
    except OSError:
        shutil.copyfile(source, temporary)
        _fsync_file(temporary)
    os.replace(temporary, target)


def _write_json(path: Path, data: Any) -> None:
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(path.parent)
