"""The streaming upload proxy's rewriter: the browser's form in, the converter's form out.

The converter believes whatever ``user_id`` it is sent, so this module is the trust
boundary of the upload: it reads the raw request body as it arrives, drops every
part the client named ``user_id``, puts the session user's id first, lets through
only the converter's known fields and passes file bodies on byte for byte, never
holding a whole file in memory (see the spec's "The streaming upload proxy").

Part headers are rebuilt from the parsed name and filename, never copied: parsers
disagree on headers such as ``name="x"; name="user_id"``, and a copied header would
let the converter read a name we never checked.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from django.utils.http import parse_header_parameters
from django.utils.translation import gettext_lazy as _
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from conversion import limits
from visiona.chips import Chip
from visiona.errors import (
    AppError,
    MalformedRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

# The converter's create-job form, as docs/upstreams.md describes it.
# Every other module takes these names from here.
USER_ID_FIELD = "user_id"
USER_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
PLATFORM_FIELD = "platform"
MODEL_ID_FIELD = "model_id"
VERSION_FIELD = "version"
TEXT_FIELDS = frozenset({PLATFORM_FIELD, MODEL_ID_FIELD, VERSION_FIELD})
MODEL_FIELD = "model"
IMAGES_FIELD = "ref_images"
FILE_FIELDS = frozenset({MODEL_FIELD, IMAGES_FIELD})

# gunicorn copies its buffer on every read: large reads are much faster.
READ_CHUNK_SIZE = 1024 * 1024
MAX_PARTS = 110  # the converter takes at most 100 images, plus the model and fields
MAX_TEXT_BYTES = 256
MAX_HEADER_SIZE = 8 * 1024
MAX_HEADER_COUNT = 8  # browsers send two; RFC 7578 knows three
# Below this, output pieces are joined so the upstream request is not a stream of
# tiny chunked-encoding frames; larger pieces go out as they are, without a copy.
COALESCE_BELOW = 64 * 1024

# RFC 2046 §5.1.1: 1 to 70 characters, the last one not a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# RFC 7230 token and quoted-string, to read Content-Disposition parameters strictly.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_DISPOSITION_TYPE = re.compile(rf"\s*{_TOKEN}\s*")
_DISPOSITION_PARAM = re.compile(rf'\s*;\s*({_TOKEN})\s*=\s*(?:{_TOKEN}|"(?:[^"\\]|\\.)*")\s*')
# RFC 6838 restricted names, without parameters.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
# Dropped from file names rather than escaped: parsers disagree on backslash
# escapes inside quoted strings, and a control character has no place in a header.
_FILENAME_UNSAFE = re.compile(r'["\x00-\x1f\x7f-\x9f]')
_DEFAULT_MEDIA_TYPE = "application/octet-stream"


class UploadInterrupted(AppError):
    status = 400
    code = "upload_interrupted"
    message = _("The upload was interrupted before it finished.")


class ReadableStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


# --- The per-part observer hook (the ONNX pre-flight uses it) --------------------


class PartObserver(Protocol):
    """Sees a file part's bytes as they pass; ``finish`` may raise an ``AppError``.

    A part with an observer has its last piece held back until ``finish`` returns,
    so an observer that refuses the file ends the upload before the converter has
    the whole form (it never creates the job).
    """

    def feed(self, data: bytes) -> None: ...

    def finish(self) -> None: ...


# (field name, file name) -> an observer for that part, or None.
ObserverFactory = Callable[[str, str], PartObserver | None]


@dataclass
class UploadSummary:
    """What went through, filled in while the rewritten form is consumed."""

    fields: dict[str, str] = field(default_factory=dict)
    model_filename: str | None = None
    image_count: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass(frozen=True)
class RewrittenUpload:
    chunks: Iterator[bytes]
    content_type: str
    summary: UploadSummary


# --- Reading the request -----------------------------------------------------


def boundary_from_content_type(content_type: str) -> str:
    media_type, params = parse_header_parameters(content_type or "")
    if media_type != "multipart/form-data":
        raise UnsupportedMediaType()
    boundary = params.get("boundary", "")
    if not _BOUNDARY.fullmatch(boundary):
        raise MalformedRequest()
    return boundary


def iter_stream(
    stream: ReadableStream, *, expected_length: int, chunk_size: int = READ_CHUNK_SIZE
) -> Iterator[bytes]:
    """The request body in large blocks, exactly ``expected_length`` bytes of it.

    A body shorter than announced means the client went away: the form must then
    fail, not reach the converter as if complete. Django's LimitedStream signals
    that with an empty read, the server's socket with an OSError (Django's
    ``UnreadablePostError`` is one); either becomes ``UploadInterrupted``, which,
    unlike an OSError, an HTTP client will not mistake for its own connection error.
    """
    remaining = expected_length
    while remaining > 0:
        try:
            chunk = stream.read(min(chunk_size, remaining))
        except OSError as exc:
            raise UploadInterrupted() from exc
        if not chunk:
            raise UploadInterrupted()
        remaining -= len(chunk)
        yield chunk


# --- Rewriting the form ---------------------------------------------------------


def rewrite_upload(
    chunks: Iterable[bytes],
    *,
    boundary: str,
    user_id: str,
    max_parts: int = MAX_PARTS,
    part_observer: ObserverFactory | None = None,
) -> RewrittenUpload:
    """The converter's form, built lazily from the client's as ``chunks`` arrive.

    Consuming ``.chunks`` raises an ``AppError`` (the form is invalid, malformed or
    cut short) instead of ever ending a form the client did not finish.
    """
    if not USER_ID_PATTERN.fullmatch(user_id):
        # Ours, not the client's: a bug or an unexpected identity provider.
        raise ValueError("user_id does not match the converter's pattern")
    try:
        parser = PushMultipartParser(
            boundary,
            max_header_size=MAX_HEADER_SIZE,
            max_header_count=MAX_HEADER_COUNT,
            strict=False,
        )
    except MultipartError as exc:
        raise MalformedRequest() from exc
    # Unguessable, so no file body the client chose can contain our delimiter.
    new_boundary = f"visiona-{secrets.token_hex(16)}"
    summary = UploadSummary()
    form = _Form(new_boundary, summary, max_parts, part_observer)
    return RewrittenUpload(
        chunks=_rewrite(chunks, parser, form, user_id),
        content_type=f"multipart/form-data; boundary={new_boundary}",
        summary=summary,
    )


def _rewrite(
    chunks: Iterable[bytes], parser: PushMultipartParser, form: _Form, user_id: str
) -> Iterator[bytes]:
    out = _Output(form.summary)
    yield from out.put(form.text_part(USER_ID_FIELD, user_id.encode()))
    part: _Part = _DroppedPart()
    try:
        for chunk in chunks:
            if not chunk:
                continue  # to the parser, an empty chunk means the end
            form.summary.bytes_in += len(chunk)
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    part = form.open_part(event)
                    yield from out.put(part.head)
                elif event is None:
                    yield from out.put(part.finish())
                else:
                    yield from out.put(part.feed(event))
        parser.close()  # raises if the closing boundary never came
    except MultipartError as exc:
        raise MalformedRequest() from exc
    form.check_complete()
    yield from out.put(form.closing_delimiter())
    yield from out.flush()


class _Output:
    """Counts what goes out and joins small pieces; never yields an empty chunk."""

    def __init__(self, summary: UploadSummary) -> None:
        self._summary = summary
        self._pending = bytearray()

    def put(self, data: bytes | bytearray) -> Iterator[bytes]:
        if len(data) < COALESCE_BELOW:
            self._pending += data
            if len(self._pending) >= COALESCE_BELOW:
                yield from self.flush()
            return
        yield from self.flush()
        self._summary.bytes_out += len(data)
        yield bytes(data)  # no copy when the parser already gave bytes

    def flush(self) -> Iterator[bytes]:
        if self._pending:
            chunk = bytes(self._pending)
            self._pending.clear()
            self._summary.bytes_out += len(chunk)
            yield chunk


class _Part:
    """One incoming part: the rebuilt head, then what each body piece becomes."""

    head: bytes = b""

    def feed(self, data: bytes) -> bytes:
        raise NotImplementedError

    def finish(self) -> bytes:
        raise NotImplementedError


class _DroppedPart(_Part):
    def feed(self, data: bytes) -> bytes:
        return b""

    def finish(self) -> bytes:
        return b""


class _UnchosenFile(_Part):
    """A file input left empty: browsers still send it, with ``filename=""``."""

    def __init__(self, name: str) -> None:
        self._name = name

    def feed(self, data: bytes) -> bytes:
        raise _invalid(self._name, _("The file needs a valid name."))

    def finish(self) -> bytes:
        return b""


class _FilePart(_Part):
    def __init__(
        self, head: bytes, name: str, max_bytes: int, observer: PartObserver | None = None
    ) -> None:
        self.head = head
        self._name = name
        self._left = max_bytes
        self._observer = observer
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        # Refused as soon as it is too large: the converter never gets the rest.
        self._left -= len(data)
        if self._left < 0:
            raise PayloadTooLarge(details={"field": self._name})
        if self._observer is None:
            return data
        self._observer.feed(data)
        held, self._held = self._held, data  # the last piece waits for the verdict
        return held

    def finish(self) -> bytes:
        if self._observer is None:
            return b"\r\n"
        self._observer.finish()  # raises to refuse the file
        return self._held + b"\r\n"


class _TextPart(_Part):
    """A small field, held until complete so its length and encoding can be checked."""

    def __init__(self, form: _Form, name: str) -> None:
        self._form = form
        self._name = name
        self._value = bytearray()

    def feed(self, data: bytes) -> bytes:
        self._value += data
        if len(self._value) > MAX_TEXT_BYTES:
            raise _invalid(self._name, _("This value is too long."))
        return b""

    def finish(self) -> bytes:
        try:
            text = self._value.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid(self._name, _("This value must be text.")) from None
        problem = _text_field_problem(self._name, text)
        if problem:
            raise _invalid(self._name, problem)
        self._form.summary.fields[self._name] = text  # at most MAX_TEXT_BYTES characters
        return self._form.text_part(self._name, bytes(self._value))


class _Form:
    """The rules of the outgoing form, and what has been seen of the incoming one."""

    def __init__(
        self,
        boundary: str,
        summary: UploadSummary,
        max_parts: int,
        part_observer: ObserverFactory | None = None,
    ) -> None:
        self._delimiter = f"--{boundary}".encode("ascii")
        self.summary = summary
        self._max_parts = max_parts
        self._part_count = 0
        self._part_observer = part_observer

    def open_part(self, segment: MultipartSegment) -> _Part:
        self._part_count += 1
        if self._part_count > self._max_parts:
            raise _invalid(IMAGES_FIELD, _("Too many files."))
        _check_headers(segment)
        name = segment.name or ""
        if name.casefold() == USER_ID_FIELD:
            return _DroppedPart()
        if name in TEXT_FIELDS:
            return self._open_text(name, segment)
        if name in FILE_FIELDS:
            return self._open_file(name, segment)
        raise _invalid(name[:128], _("This field is not accepted."))

    def _open_text(self, name: str, segment: MultipartSegment) -> _Part:
        if segment.filename is not None:
            raise _invalid(name, _("This value must be text."))
        if name in self.summary.fields:
            raise _invalid(name, _("This field may only be sent once."))
        # Claims the name now: a duplicate is refused even before this one ends.
        self.summary.fields[name] = ""
        return _TextPart(self, name)

    def _open_file(self, name: str, segment: MultipartSegment) -> _Part:
        if segment.filename is None:
            raise _invalid(name, _("This field must be a file."))
        if segment.filename == "":
            return _UnchosenFile(name)
        filename = _safe_filename(segment.filename)
        if filename is None:
            raise _invalid(name, _("The file needs a valid name."))
        if name == MODEL_FIELD:
            if self.summary.model_filename is not None:
                raise _invalid(name, _("This field may only be sent once."))
            if not filename.lower().endswith(limits.MODEL_EXTENSIONS):
                raise _invalid(name, _("The model must be an .onnx file."))
            self.summary.model_filename = filename
            max_bytes = limits.MAX_MODEL_BYTES
        else:
            if not filename.lower().endswith(limits.IMAGE_EXTENSIONS):
                raise _invalid(name, _("Reference images must be JPEG or PNG files."))
            self.summary.image_count += 1
            if self.summary.image_count > limits.MAX_IMAGES:
                raise _invalid(name, _("Too many files."))
            max_bytes = limits.MAX_IMAGE_BYTES
        media_type = segment.content_type or ""
        if not _MEDIA_TYPE.fullmatch(media_type):
            media_type = _DEFAULT_MEDIA_TYPE
        observer = self._part_observer(name, filename) if self._part_observer else None
        return _FilePart(self._head(name, filename, media_type), name, max_bytes, observer)

    def check_complete(self) -> None:
        if not self.summary.fields.get(PLATFORM_FIELD):
            raise _invalid(PLATFORM_FIELD, _("Choose the target chip."))
        if self.summary.model_filename is None:
            raise _invalid(MODEL_FIELD, _("Please choose a model file."))

    def text_part(self, name: str, value: bytes) -> bytes:
        return self._head(name) + value + b"\r\n"

    def closing_delimiter(self) -> bytes:
        return self._delimiter + b"--\r\n"

    def _head(self, name: str, filename: str | None = None, media_type: str = "") -> bytes:
        head = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            head += f'; filename="{filename}"\r\nContent-Type: {media_type}'
        return self._delimiter + b"\r\n" + head.encode() + b"\r\n\r\n"


_PLATFORMS = frozenset(chip.platform_code for chip in Chip)
_VERSION = re.compile(limits.VERSION_PATTERN)


def _text_field_problem(name: str, value: str):
    """Why a small field's value is refused, or None; the same rules as the page."""
    if name == PLATFORM_FIELD and value not in _PLATFORMS:
        return _("Choose one of the supported chips.")
    if name == MODEL_ID_FIELD:
        number = int(value) if value.isascii() and value.isdigit() else -1
        if not limits.MIN_USER_MODEL_ID <= number <= limits.MAX_MODEL_ID:
            return _("Enter a whole number from %(min)s to %(max)s.") % {
                "min": limits.MIN_USER_MODEL_ID,
                "max": limits.MAX_MODEL_ID,
            }
    if name == VERSION_FIELD and not _VERSION.fullmatch(value):
        return _("Enter four hexadecimal digits, e.g. 0001.")
    return None


def _check_headers(segment: MultipartSegment) -> None:
    """Refuse the headers parsers read differently: a repeated header or parameter,
    or an RFC 2231 ``name*``/``filename*`` that some parsers prefer and others ignore."""
    names = [header for header, _value in segment.headerlist]
    if names.count("Content-Disposition") != 1 or names.count("Content-Type") > 1:
        raise MalformedRequest()
    params = _disposition_params(segment["Content-Disposition"])
    if len(params) != len(set(params)) or any(param.endswith("*") for param in params):
        raise MalformedRequest()


def _disposition_params(value: str) -> list[str]:
    """The parameter names of a Content-Disposition value, which must parse whole."""
    match = _DISPOSITION_TYPE.match(value)
    if match is None:
        raise MalformedRequest()
    position = match.end()
    params = []
    while position < len(value):
        match = _DISPOSITION_PARAM.match(value, position)
        if match is None:
            raise MalformedRequest()
        params.append(match.group(1).lower())
        position = match.end()
    return params


def _safe_filename(filename: str) -> str | None:
    """The last path segment, without quotes or control characters; None if
    nothing is left (the part is then refused with "The file needs a valid name").

    Browsers send only the name, but other clients send paths (both separators),
    so no backslash survives either: the name needs no escaping at all.
    """
    name = _FILENAME_UNSAFE.sub("", re.split(r"[/\\]", filename)[-1]).strip()
    return None if name in {"", ".", ".."} else name


def _invalid(name: str, message) -> ValidationFailed:
    return ValidationFailed.for_fields([{"field": name, "message": str(message)}])
