"""A model's download: streamed to a ``.part`` file, resumed with ``Range`` after a cut.

Never the whole file in memory: chunks of 256 KiB go to the ``.part`` file as they
come. Beside it a ``.json`` says which file it is (sha256, size) and how many of its
bytes are known to be on disk (fsynced every 4 MiB and at every cut or stop), so a cut, a
crash or a restart of the agent resumes from there:

    Range: bytes=<bytes on disk>-
    If-Range: "<sha256>"

- 206 from the expected offset: appended. 200 (the server ignored the range, or the
  file changed): written again from zero. 416: the partial is discarded, restart.
- 409 (the deployment was cancelled or finished): ``DownloadFinished``; 404:
  ``DownloadNotFound``; 401/403: ``DownloadRefused``; another 4xx: ``DownloadFailed``.
- A network error, a cut or a 5xx/408/429: tried again after ``Backoff`` (full
  jitter); after ``give_up_after`` seconds without one new byte, ``DownloadFailed``.

With its models in S3, visionA answers a redirect to the bucket (``open_download``
follows it once, with the Range, without the token). The bucket's 200 and 206 count as
visionA's; any other answer of the bucket (403: the URL expired; a 5xx) or a network
error on the way to it is tried again the same way, so each attempt asks visionA first
and visionA's answer (a new URL, 409, 404…) decides. A redirect the agent does not follow
(the bucket's own, or visionA's to something else than an http(s) URL): ``DownloadFailed``.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Callable, NoReturn

import requests

from visiona_client.backoff import Backoff
from visiona_client.server_api import ServerError

logger = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
CHECKPOINT_BYTES = 4 * 1024 * 1024
GIVE_UP_AFTER_SECONDS = 15 * 60.0
RETRYABLE_STATUSES = frozenset({408, 429})
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_S3_CODE = re.compile(rb"<Code>([A-Za-z0-9.]{1,64})</Code>")

OpenResponse = Callable[[dict[str, str]], requests.Response]


class DownloadError(Exception):
    """The download ended without the whole file."""


class DownloadInterrupted(DownloadError):
    """The caller set ``interrupt`` (the agent stops, or the deployment was cancelled)."""


class DownloadFinished(DownloadError):
    """409: visionA says the deployment is cancelled or finished."""


class DownloadNotFound(DownloadError):
    """404: visionA has no such deployment (or file) for this device."""


class DownloadRefused(DownloadError):
    """401/403: visionA no longer accepts this device's token."""


class DownloadFailed(DownloadError):
    """Gave up: ``download_failed``, or ``install_failed`` when ``disk`` is true."""

    def __init__(self, message: str, *, disk: bool = False) -> None:
        super().__init__(message)
        self.disk = disk


class Interrupt(threading.Event):
    """An Event whose ``set`` also cuts the answer being read, so a blocked read returns
    at once (and the bytes so far are recorded) instead of after the read timeout."""

    def __init__(self) -> None:
        super().__init__()
        self._guard = threading.Lock()
        self._response: requests.Response | None = None

    def set(self) -> None:
        super().set()
        with self._guard:
            if self._response is not None:
                _abort(self._response)

    @contextlib.contextmanager
    def reading(self, response: requests.Response) -> Iterator[None]:
        with self._guard:
            self._response = response
        try:
            yield
        finally:
            with self._guard:
                self._response = None


def _abort(response: requests.Response) -> None:
    """Shut the answer's socket (close() alone does not wake a read in another thread)."""
    raw = response.raw
    connection = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    if connection is None:
        return
    with contextlib.suppress(Exception):
        connection.sock.shutdown(socket.SHUT_RDWR)


class _TryAgain(Exception):
    def __init__(self, reason: str, *, moved: bool, wait: bool = True) -> None:
        super().__init__(reason)
        self.moved = moved
        self.wait = wait


class Partial:
    """A ``.part`` file and its ``.json``: the bytes on disk so far of one file."""

    def __init__(self, part: Path, meta: Path, *, sha256: str, size: int) -> None:
        self.part, self.meta = part, meta
        self.sha256, self.size = sha256, size

    def offset(self) -> int:
        """The bytes to keep; discards a partial of another file (or none to trust)."""
        try:
            recorded = json.loads(self.meta.read_text(encoding="utf-8"))
            on_disk = self.part.stat().st_size
        except (OSError, ValueError):
            self.discard()
            return 0
        same = (
            isinstance(recorded, dict)
            and recorded.get("sha256") == self.sha256
            and recorded.get("size_bytes") == self.size
        )
        durable = recorded.get("bytes_on_disk") if same else None
        if not isinstance(durable, int) or not 0 <= durable <= min(on_disk, self.size):
            self.discard()
            return 0
        return durable

    def open_at(self, offset: int) -> IO[bytes]:
        self.part.parent.mkdir(parents=True, exist_ok=True)
        if offset == 0:
            self.discard()
            self.checkpoint(None, 0)
        handle = open(self.part, "r+b" if self.part.exists() else "w+b")  # noqa: SIM115
        handle.truncate(offset)
        handle.seek(offset)
        return handle

    def checkpoint(self, handle: IO[bytes] | None, length: int) -> None:
        """Record ``length`` bytes as safely on disk (after an fsync of them)."""
        if handle is not None:
            handle.flush()
            os.fsync(handle.fileno())
        temporary = self.meta.with_name(self.meta.name + ".tmp")
        record = {"sha256": self.sha256, "size_bytes": self.size, "bytes_on_disk": length}
        with open(temporary, "w", encoding="utf-8") as meta:
            json.dump(record, meta)
            meta.flush()
            os.fsync(meta.fileno())
        os.replace(temporary, self.meta)

    def discard(self) -> None:
        for path in (self.part, self.meta):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def download(
    open_response: OpenResponse,
    partial: Partial,
    *,
    interrupt: threading.Event,
    on_progress: Callable[[int], None] = lambda done: None,
    backoff: Backoff | None = None,
    give_up_after: float = GIVE_UP_AFTER_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Fetch the whole file into ``partial.part``; raises a DownloadError otherwise."""
    backoff = backoff or Backoff()
    last_progress = clock()
    while True:
        if interrupt.is_set():
            raise DownloadInterrupted("interrupted")
        offset = partial.offset()
        if offset == partial.size:
            return
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = f'"{partial.sha256}"'
        try:
            _attempt(open_response, partial, headers, offset, interrupt, on_progress)
            return
        except _TryAgain as again:
            if again.moved:
                backoff.reset()
                last_progress = clock()
            if not again.wait:
                continue
            if clock() - last_progress >= give_up_after:
                raise DownloadFailed(
                    f"no progress for {give_up_after:.0f} s; last: {again}"
                ) from None
            delay = backoff.next_delay()
            logger.warning("download: %s; trying again in %.1f s", again, delay)
            if interrupt.wait(delay):
                raise DownloadInterrupted("interrupted") from None


def _attempt(
    open_response: OpenResponse,
    partial: Partial,
    headers: dict[str, str],
    offset: int,
    interrupt: threading.Event,
    on_progress: Callable[[int], None],
) -> None:
    try:
        response = open_response(headers)
    except ServerError as exc:
        raise _TryAgain(str(exc), moved=False) from None
    reading = interrupt.reading(response) if isinstance(interrupt, Interrupt) else _nothing()
    with response, reading:
        if interrupt.is_set():
            raise DownloadInterrupted("interrupted")
        start = _start_of(response, partial, offset)
        _stream(response, partial, start, interrupt, on_progress)


def _start_of(response: requests.Response, partial: Partial, offset: int) -> int:
    """Where this answer's bytes go in the file, or the exception its status means."""
    status = response.status_code
    if status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "").strip())
        if not match or int(match.group(1)) != offset:
            partial.discard()
            raise _TryAgain("206 from another offset: restarting", moved=False, wait=False)
        return offset
    if status == 200:
        if offset:
            logger.info("download: the server sent the whole file again; restarting from zero")
        return 0
    if response.history:
        _refuse_bucket_answer(response)
    if status == 416:
        partial.discard()
        raise _TryAgain(
            "416: the partial does not fit the file; restarting", moved=True, wait=False
        )
    if response.is_redirect:
        raise DownloadFailed(
            f"visionA redirected the download (HTTP {status}) to a URL that is not http(s)"
        )
    code = _error_code(response)
    if status == 409:
        raise DownloadFinished(code or "deployment_finished")
    if status == 404:
        raise DownloadNotFound(code or "not_found")
    if status in (401, 403):
        raise DownloadRefused(code or f"HTTP {status}")
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise _TryAgain(f"HTTP {status}", moved=False)
    raise DownloadFailed(f"visionA answered HTTP {status} {code}".strip())


def _refuse_bucket_answer(response: requests.Response) -> NoReturn:
    """Any answer of the bucket but 200 and 206: not for the bucket to end the download.
    visionA is asked again (a new URL, or its own 409, 404…); it judged the range before
    redirecting, so even a 416 here means an object unlike the file it recorded, and the
    deadline without progress ends that. Only the bucket's own redirect ends it at once."""
    status = response.status_code
    if response.is_redirect:
        raise DownloadFailed(f"the bucket answered a redirect (HTTP {status}): not followed")
    raise _TryAgain(f"the bucket answered HTTP {status} {_bucket_code(response)}", moved=False)


def _stream(
    response: requests.Response,
    partial: Partial,
    start: int,
    interrupt: threading.Event,
    on_progress: Callable[[int], None],
) -> None:
    done = start
    try:
        handle = partial.open_at(start)
    except OSError as exc:
        raise DownloadFailed(f"cannot write {partial.part}: {exc.strerror}", disk=True) from None
    checkpointed = start
    cut: str | None = None
    with handle:
        try:
            for chunk in _chunks(response):
                if interrupt.is_set():
                    break
                chunk = chunk[: partial.size - done]  # never more than the promised size
                try:
                    handle.write(chunk)
                except OSError as exc:
                    raise DownloadFailed(
                        f"cannot write {partial.part}: {exc.strerror}", disk=True
                    ) from None
                done += len(chunk)
                if done - checkpointed >= CHECKPOINT_BYTES:
                    partial.checkpoint(handle, done)
                    checkpointed = done
                on_progress(done)
                if done >= partial.size:
                    break
        except (requests.RequestException, OSError) as exc:
            cut = f"cut after {done} bytes ({exc.__class__.__name__})"
        partial.checkpoint(handle, done)
    if interrupt.is_set():
        raise DownloadInterrupted("interrupted")
    if done < partial.size:
        raise _TryAgain(cut or f"the answer ended after {done} bytes", moved=done > start)


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: with urllib3 2, every byte that came before a cut.

    ``iter_content`` reads whole chunks, and a cut loses the part of a chunk already
    received; ``read1`` (urllib3 2) hands over what is there.
    """
    read1 = getattr(response.raw, "read1", None)
    if read1 is None or "decode_content" not in inspect.signature(read1).parameters:
        yield from response.iter_content(CHUNK_BYTES)
        return
    while True:
        try:
            chunk = read1(CHUNK_BYTES, decode_content=True)
        except Exception as exc:  # urllib3's own protocol errors, or the socket's
            raise requests.ConnectionError(exc) from None
        if not chunk:
            return
        yield chunk


def _bucket_code(response: requests.Response) -> str:
    """S3's error code (``<Code>AccessDenied</Code>``), for the log; "" if none."""
    with contextlib.suppress(Exception):
        match = _S3_CODE.search(response.raw.read(4096, decode_content=True))
        if match:
            return match.group(1).decode("ascii", "replace")
    return ""


def _error_code(response: requests.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError, KeyError):
        return str(response.json()["error"]["code"])
    return ""
