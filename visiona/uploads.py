"""Streamed uploads may hold a web thread, so they are bounded two ways (docs/streams.md).

nginx reads every other request body whole before the app sees it; a streamed upload
(the conversion upload, My models' upload: views marked ``@streamed_upload``) passes as
it arrives, and a thread reads it. So:

- **A cap per process**: at most ``STREAMED_UPLOADS_PER_PROCESS`` at once in one
  worker; past it the answer is 503 ``uploads_busy`` with ``Retry-After`` at once,
  before a byte of the body is read, never a wait in a queue. The worker's other
  threads stay free for everyone else.
- **A floor rate**: a body must bring ``UPLOAD_FLOOR_BYTES_PER_SECOND`` on average over
  every window of ``UPLOAD_FLOOR_WINDOW_SECONDS``; one that trickles slower, or stalls,
  is cut with 408 ``upload_too_slow`` within a window. Enforced under gunicorn (the
  production server) at its socket: every receive waits at most until the window's end.
  The upload's reader then raises, so the converter's request is aborted and nothing
  half-made is kept (no job, no model record, no stored or temporary file).

The middleware stands before Django's CSRF check, which reads a page form's body.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from visiona.errors import UploadsBusy, UploadTooSlow, error_response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
_MARK = "streamed_upload"
_RELEASE = "_streamed_upload_release"


def streamed_upload(view: Callable) -> Callable:
    """Mark a view whose POST body is read as a stream (like ``csrf_exempt`` marks)."""
    setattr(view, _MARK, True)
    return view


class _Slots:
    """Streamed uploads in this process, counted under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0

    def take(self) -> bool:
        with self._lock:
            if self.active >= settings.STREAMED_UPLOADS_PER_PROCESS:
                return False
            self.active += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.active -= 1


slots = _Slots()


class FloorRate:
    """The floor, counted over the time spent waiting for the client only: time the app
    spends elsewhere (the converter slow to take the bytes, a check before reading) is
    not the client's. A window ends after ``window_seconds`` of waiting; it must have
    brought ``bytes_per_second`` for each of them."""

    def __init__(self, *, bytes_per_second: int, window_seconds: float) -> None:
        self.window_seconds = window_seconds
        self.window_bytes = bytes_per_second * window_seconds
        self._waited = 0.0
        self._received = 0

    def wait_budget(self) -> float:
        """How long the next receive may wait before the window ends."""
        return max(0.0, self.window_seconds - self._waited)

    def waited(self, seconds: float, received: int) -> None:
        self._waited += seconds
        self._received += received
        if self._waited >= self.window_seconds:
            if self._received < self.window_bytes:
                raise UploadTooSlow()
            self._waited, self._received = 0.0, 0


class FloorRateSocket:
    """gunicorn's client socket, as its reader and the upload proxy see it during a
    streamed upload: no receive waits past the end of the floor's window."""

    def __init__(self, sock: socket.socket, floor: FloorRate) -> None:
        self._sock = sock
        self._floor = floor

    def recv(self, size: int, *args) -> bytes:
        while True:
            self._sock.settimeout(max(self._floor.wait_budget(), 0.001))
            started = time.monotonic()
            try:
                data = self._sock.recv(size, *args)
            except TimeoutError:
                self._floor.waited(time.monotonic() - started, 0)  # raises when too slow
                continue
            self._floor.waited(time.monotonic() - started, len(data))
            return data

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


class StreamedUploadMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            release = getattr(request, _RELEASE, None)
            if release is not None:
                release()

    def process_view(self, request: HttpRequest, view_func, _view_args, _view_kwargs):
        if request.method != "POST" or not getattr(view_func, _MARK, False):
            return None
        if not slots.take():
            logger.warning("streamed upload refused: the process's uploads are all in use")
            busy = UploadsBusy(headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
            return error_response(request, busy)
        restore = _enforce_floor(request)

        def release() -> None:
            restore()
            slots.give_back()

        setattr(request, _RELEASE, release)
        return None


def _enforce_floor(request: HttpRequest) -> Callable[[], None]:
    """Put the floor between gunicorn and its socket for this request; how to undo it."""
    environ = request.META
    sock: socket.socket | None = environ.get("gunicorn.socket")
    unreader = getattr(getattr(environ.get("wsgi.input"), "reader", None), "unreader", None)
    if sock is None or unreader is None or getattr(unreader, "sock", None) is not sock:
        return lambda: None  # another server (runserver): its own stream, no floor
    original = cast(socket.socket, sock)
    floor = FloorRate(
        bytes_per_second=settings.UPLOAD_FLOOR_BYTES_PER_SECOND,
        window_seconds=settings.UPLOAD_FLOOR_WINDOW_SECONDS,
    )
    guarded = FloorRateSocket(original, floor)
    environ["gunicorn.socket"] = unreader.sock = guarded

    def restore() -> None:
        environ["gunicorn.socket"] = unreader.sock = original
        original.settimeout(None)

    return restore
