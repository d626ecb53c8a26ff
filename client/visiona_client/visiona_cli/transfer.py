"""A file downloaded in blocks to ``<target>.part``, renamed over ``target`` once
complete: an interrupted download never leaves a truncated file under the real name."""

from __future__ import annotations

import os
from pathlib import Path

import requests

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import TIMEOUT_SECONDS, CliError, error_from_response
from visiona_client.visiona_cli.output import Output

BLOCK_SIZE = 1 << 16


def download_target(raw: str) -> Path:
    """A download's PATH, checked when the command is read (not after a conversion's
    wait): an existing folder, or a file in one. ``newdir/`` that does not exist was
    written as a file named newdir."""
    path = Path(raw)
    if path.is_dir():
        return path
    if raw.endswith(("/", os.sep)) or not path.parent.is_dir():
        raise ValueError(raw)
    return path


download_target.__name__ = "download path (an existing folder, or a file in one)"


def into_folder(target: Path, name: str) -> Path:
    """``target``, or ``target/name`` when it is an existing folder (as ``cp`` does)."""
    if target.is_dir():
        # The name comes from visionA (a model's name, a job's file): no folder in it.
        return target / (name.replace("/", "_").replace("\\", "_").lstrip(".") or "model.nef")
    return target


def download_to(session: requests.Session, output: Output, url: str, target: Path) -> int:
    """The bytes written. Removes the partial file on any failure or Ctrl-C."""
    partial = target.with_name(target.name + ".part")
    try:
        done = _stream(session, output, url, partial, label=f"Downloading {target.name}")
        try:
            os.replace(partial, target)
        except OSError as exc:
            raise CliError(
                f"Cannot write {target}: {exc.strerror or exc}", exit_code=exit_codes.BAD_INPUT
            ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        output.note(f"Nothing written to {target}.")
        raise
    return done


def _stream(session: requests.Session, output: Output, url: str, path: Path, *, label: str) -> int:
    try:
        with session.get(url, stream=True, timeout=TIMEOUT_SECONDS) as response:
            if response.status_code >= 400:
                raise error_from_response(response)
            total = int(response.headers.get("Content-Length") or 0) or None
            progress = output.progress(label, total)
            done = 0
            with path.open("wb") as handle:
                for block in response.iter_content(BLOCK_SIZE):
                    handle.write(block)
                    done += len(block)
                    progress.update(done)
            progress.finish()
            return done
    except requests.RequestException as exc:
        raise CliError(
            f"The download failed ({exc.__class__.__name__}).", exit_code=exit_codes.SERVER
        ) from None
    except OSError as exc:
        raise CliError(
            f"Cannot write {path}: {exc.strerror or exc}", exit_code=exit_codes.BAD_INPUT
        ) from None
