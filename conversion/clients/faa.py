"""The File Access Agent: where promoted models live.

visionA reads files server to server with a service token, and hands browsers
a URL with a delegated token (see member_center.download_token).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from urllib.parse import quote, urlencode

import requests
from django.conf import settings

from conversion.clients import errors, http, member_center

FILES_PATH = "/files/{key}"
GET_BACKOFF = (0.5, 1)
READ_TIMEOUT = (10, 60)


def object_key_for_job(
    *, tenant_id: str, user_id: str, job_id: str, source: str = "nef", filename: str = ""
) -> str:
    """The naming rule for a converted model: one object per tenant, user, job and
    artifact. The NEF is named after the uploaded ONNX (``yolo.onnx`` -> ``yolo.nef``):
    a browser sent to FAA saves the file under the key's last segment, and a user's
    downloads should not all be ``model.nef``. The source kept as the reference stays
    ``model.onnx`` (visionA reads it, no browser does)."""
    stem = _file_stem(filename) if source == "nef" else "model"
    return f"tenants/{tenant_id}/users/{user_id}/models/{job_id}/{stem}.{source}"


# A key's last segment: ASCII letters and digits, '.', '_' and '-'; the rest becomes
# '_' (no spaces, quotes or separators in a key or a saved file's name). ASCII only:
# the converter's and FAA's key rules are theirs (422 invalid_object_key), and a key
# of plain ASCII is the one every object store takes.
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_STEM_MAX_LENGTH = 100


def _file_stem(filename: str) -> str:
    """``My Net (v2).onnx`` -> ``My_Net_v2``; ``model`` when nothing usable is left."""
    stem = PurePosixPath((filename or "").replace("\\", "/")).stem
    stem = _UNSAFE_IN_NAME.sub("_", stem)[:_STEM_MAX_LENGTH].strip("._-")
    return stem or "model"


def _path(key: str) -> str:
    # Each segment escaped on its own, so "/" keeps separating them.
    return FILES_PATH.format(key="/".join(quote(part, safe="") for part in key.split("/")))


def file_url(key: str, *, access_token: str) -> str:
    """The browser's download URL. It carries a secret: never log or render it."""
    base = settings.FAA_BASE_URL.rstrip("/")
    return f"{base}{_path(key)}?{urlencode({'access_token': access_token})}"


class Download:
    def __init__(self, response: requests.Response) -> None:
        self._response = response

    def iter_chunks(self, size: int) -> Iterator[bytes]:
        # Past the first byte there is no retry: what was passed on can't be taken back.
        try:
            for chunk in self._response.iter_content(chunk_size=size):
                if chunk:
                    yield chunk
        except requests.RequestException as exc:
            http.logger.warning("faa stream broke", extra={"upstream": "faa"})
            raise errors.FaaUnavailable() from exc


@contextmanager
def open_file(key: str) -> Iterator[Download]:
    """Stream one object from FAA; retried only until the answer starts."""
    try:
        response = member_center.call_with_service_token(
            "GET",
            settings.FAA_BASE_URL.rstrip("/") + _path(key),
            scope=member_center.SCOPE_FILES_READ,
            service="faa",
            endpoint=FILES_PATH,
            backoff=GET_BACKOFF,
            timeout=READ_TIMEOUT,
            stream=True,
        )
    except http.UpstreamUnreachable:
        raise errors.FaaUnavailable() from None
    try:
        if response.status_code != 200:
            if response.status_code == 404:
                raise errors.SourceNotAvailable()
            raise errors.FaaUnavailable()
        yield Download(response)
    finally:
        response.close()
