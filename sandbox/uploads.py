"""Receives the converter's multipart upload as a stream, straight to disk.

The body is read in 1 MiB blocks and fed to ``multipart.PushMultipartParser``;
files are written and hashed as they arrive, and a size or count limit stops
the upload at the block that crosses it. Memory does not grow with the upload.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import multipart
from django.conf import settings

from conversion import limits as converter
from sandbox.http import CHUNK_SIZE, BodyStream

if TYPE_CHECKING:
    from _hashlib import HASH

MODEL_FIELD = "model"
IMAGES_FIELD = "ref_images"
_TEXT_MAX_BYTES = 64 * 1024
_MAX_TEXT_PARTS = 100


@dataclass(frozen=True)
class Limits:
    model_bytes: int
    image_bytes: int
    images: int

    @classmethod
    def from_settings(cls) -> Limits:
        """The real converter's limits, as visionA states them (conversion/limits.py);
        a test shrinks one by setting SANDBOX_MAX_MODEL_BYTES, _IMAGE_BYTES or _IMAGES."""
        return cls(
            model_bytes=getattr(settings, "SANDBOX_MAX_MODEL_BYTES", converter.MAX_MODEL_BYTES),
            image_bytes=getattr(settings, "SANDBOX_MAX_IMAGE_BYTES", converter.MAX_IMAGE_BYTES),
            images=getattr(settings, "SANDBOX_MAX_IMAGES", converter.MAX_IMAGES),
        )


@dataclass
class Part:
    name: str
    filename: str | None = None  # None for a text field
    value: str = ""
    path: Path | None = None
    size_bytes: int = 0
    sha256: str = ""
    content_type: str | None = None

    def describe(self) -> dict:
        """What the inspection endpoint shows of this part."""
        if self.filename is None:
            return {"name": self.name, "value": self.value}
        return {
            "name": self.name,
            "filename": self.filename,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
        }


class UploadRejected(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def invalid_multipart(message: str) -> UploadRejected:
    return UploadRejected(400, "invalid_multipart", message)


@dataclass
class _Receiver:
    folder: Path
    limits: Limits
    parts: list[Part] = field(default_factory=list)
    current: Part | None = None
    text: bytearray = field(default_factory=bytearray)
    file: BinaryIO | None = None
    digest: HASH | None = None  # the running sha256 of the current file
    images: int = 0

    def _open_part(self) -> Part:
        # The parser sends data and ends only inside a part it has started.
        if self.current is None:
            raise invalid_multipart("The multipart body is malformed.")
        return self.current

    def _open_file(self) -> tuple[BinaryIO, HASH]:
        if self.file is None or self.digest is None:
            raise invalid_multipart("The multipart body is malformed.")
        return self.file, self.digest

    def start(self, segment: multipart.MultipartSegment) -> None:
        if not segment.name:
            raise invalid_multipart("Every part needs a name.")
        part = self.current = Part(
            segment.name, segment.filename, content_type=segment.content_type
        )
        if segment.filename is None:
            if sum(seen.filename is None for seen in self.parts) >= _MAX_TEXT_PARTS:
                raise invalid_multipart("Too many form fields.")
            self.text = bytearray()
            return
        if segment.name == IMAGES_FIELD:
            self.images += 1
            if self.images > self.limits.images:
                raise UploadRejected(
                    400,
                    "validation_error",
                    "The request is invalid.",
                    {"fields": [_too_many_images(self.limits.images)]},
                )
        elif segment.name != MODEL_FIELD:
            raise UploadRejected(
                400,
                "validation_error",
                "The request is invalid.",
                {"fields": [{"field": segment.name, "message": "Unexpected file field."}]},
            )
        part.path = self.folder / f"{len(self.parts):03d}-{segment.name}"
        self.file = part.path.open("wb")
        self.digest = hashlib.sha256()

    def data(self, chunk: bytes) -> None:
        part = self._open_part()
        part.size_bytes += len(chunk)
        if part.filename is None:
            if part.size_bytes > _TEXT_MAX_BYTES:
                raise invalid_multipart(f"The field {part.name} is too long.")
            self.text += chunk
            return
        limit = self.limits.model_bytes if part.name == MODEL_FIELD else self.limits.image_bytes
        if part.size_bytes > limit:
            raise UploadRejected(
                413,
                "file_too_large",
                f"The file {part.filename!r} is larger than {limit} bytes.",
                {"field": part.name, "filename": part.filename, "limit_bytes": limit},
            )
        file, digest = self._open_file()
        file.write(chunk)
        digest.update(chunk)

    def end(self) -> None:
        part, self.current = self._open_part(), None
        if part.filename is None:
            try:
                part.value = self.text.decode()
            except UnicodeDecodeError:
                raise invalid_multipart(f"The field {part.name} is not UTF-8 text.") from None
        else:
            _file, digest = self._open_file()
            self.close_file()
            part.sha256 = digest.hexdigest()
            if part.filename == "" and part.size_bytes == 0:
                return  # an empty file input, as browsers send it
        self.parts.append(part)

    def close_file(self) -> None:
        if self.file:
            self.file.close()
            self.file = None


def _too_many_images(limit: int) -> dict:
    return {"field": IMAGES_FIELD, "message": f"At most {limit} reference images are allowed."}


def receive(body: BodyStream, content_type: str, folder: Path, limits: Limits) -> list[Part]:
    """The upload's parts in order, files saved in ``folder``; UploadRejected otherwise."""
    mime, options = multipart.parse_options_header(content_type or "")
    boundary = options.get("boundary")
    if mime != "multipart/form-data" or not boundary:
        raise invalid_multipart("The body must be multipart/form-data with a boundary.")
    receiver = _Receiver(folder, limits)
    try:
        with multipart.PushMultipartParser(
            boundary, max_segment_count=limits.images + 200
        ) as parser:
            while True:
                chunk = body.read(CHUNK_SIZE)
                for event in parser.parse(chunk):
                    if isinstance(event, multipart.MultipartSegment):
                        receiver.start(event)
                    elif event:
                        receiver.data(event)
                    else:
                        receiver.end()
                if not chunk:
                    break
    except (multipart.MultipartError, ValueError) as exc:
        raise invalid_multipart(f"The multipart body is malformed: {exc}") from None
    finally:
        receiver.close_file()
    return receiver.parts
