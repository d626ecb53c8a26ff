"""The rewrite policy: what of the client's form the converter gets.

The converter believes whatever ``user_id`` it is sent, so this is the trust
boundary of the upload: every part the client named ``user_id`` is dropped (the
session user's id goes first, written by ``upload_stream``), only the converter's
known fields pass, each checked by the page's rules, and file bodies pass on
byte for byte within their size limits.

A kept file part may be watched by observers (``PartObserver``): each is fed the
part's bytes as they pass and may refuse the upload by raising an ``AppError``
(e.g. a scanner of the ONNX model). Observers are created per part by the
factories given to ``rewrite_upload``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.utils.translation import gettext_lazy as _
from multipart import MultipartSegment

from conversion import limits
from conversion.upload_framing import FormWriter, safe_media_type
from conversion.upload_reading import check_headers, safe_filename
from visiona.chips import Chip
from visiona.errors import PayloadTooLarge, ValidationFailed

# The converter's create-job form, as its contract describes it (docs/conversion.md).
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

MAX_PARTS = 110  # the converter takes at most 100 images, plus the model and fields
MAX_TEXT_BYTES = 256


class PartObserver(Protocol):
    """Sees one kept file part's bytes as they pass; raises an AppError to refuse it."""

    def feed(self, data: bytes) -> None: ...

    def finish(self) -> None: ...


# Called for each kept file part with (field name, file name); None: not watched.
ObserverFactory = Callable[[str, str], PartObserver | None]


@dataclass
class UploadSummary:
    """What went through, filled in while the rewritten form is consumed."""

    fields: dict[str, str] = field(default_factory=dict)
    model_filename: str | None = None
    image_count: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


class Part:
    """One incoming part: the rebuilt head, then what each body piece becomes."""

    head: bytes = b""

    def feed(self, data: bytes) -> bytes:
        raise NotImplementedError

    def finish(self) -> bytes:
        raise NotImplementedError


class DroppedPart(Part):
    def feed(self, data: bytes) -> bytes:
        return b""

    def finish(self) -> bytes:
        return b""


class _UnchosenFile(Part):
    """A file input left empty: browsers still send it, with ``filename=""``."""

    def __init__(self, name: str) -> None:
        self._name = name

    def feed(self, data: bytes) -> bytes:
        raise invalid(self._name, _("The file needs a valid name."))

    def finish(self) -> bytes:
        return b""


class _FilePart(Part):
    def __init__(
        self, head: bytes, name: str, max_bytes: int, observers: Sequence[PartObserver] = ()
    ) -> None:
        self.head = head
        self._name = name
        self._left = max_bytes
        self._observers = observers
        # A watched part's latest piece waits for the next (or for the observers'
        # verdict at the end): the converter never holds a whole part an observer may
        # still refuse.
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        # Refused as soon as it is too large: the converter never gets the rest.
        self._left -= len(data)
        if self._left < 0:
            raise PayloadTooLarge(details={"field": self._name})
        if not self._observers:
            return data
        for observer in self._observers:
            observer.feed(data)
        passed, self._held = self._held, data
        return passed

    def finish(self) -> bytes:
        for observer in self._observers:
            observer.finish()
        held, self._held = self._held, b""
        return held + b"\r\n"


class _ImageSignature:
    """Refuses a reference image whose first bytes are no JPEG's or PNG's.

    The name's extension alone let a text file named ``.png`` through, and the
    converter calibrated on it as noise; a part observer decides on the first few
    bytes, before the converter has the part's end.
    """

    _LENGTH = max(len(signature) for signature in limits.IMAGE_SIGNATURES)

    def __init__(self, filename: str) -> None:
        self._filename = filename
        self._start = b""
        self._checked = False

    def feed(self, data: bytes) -> None:
        if self._checked:
            return
        self._start += data[: self._LENGTH - len(self._start)]
        if len(self._start) == self._LENGTH:
            self.finish()

    def finish(self) -> None:
        if self._checked:
            return
        self._checked = True
        if not self._start.startswith(limits.IMAGE_SIGNATURES):
            raise invalid(
                IMAGES_FIELD,
                _("%(name)s is not a JPEG or PNG image.") % {"name": self._filename},
            )


class _TextPart(Part):
    """A small field, held until complete so its length and encoding can be checked."""

    def __init__(self, form: Form, name: str) -> None:
        self._form = form
        self._name = name
        self._value = bytearray()

    def feed(self, data: bytes) -> bytes:
        self._value += data
        if len(self._value) > MAX_TEXT_BYTES:
            raise invalid(self._name, _("This value is too long."))
        return b""

    def finish(self) -> bytes:
        try:
            text = self._value.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid(self._name, _("This value must be text.")) from None
        problem = _text_field_problem(self._name, text)
        if problem:
            raise invalid(self._name, problem)
        self._form.summary.fields[self._name] = text  # at most MAX_TEXT_BYTES characters
        return self._form.writer.text_part(self._name, bytes(self._value))


class Form:
    """The rules of the outgoing form, and what has been seen of the incoming one."""

    def __init__(
        self,
        writer: FormWriter,
        summary: UploadSummary,
        max_parts: int,
        observers: Sequence[ObserverFactory] = (),
    ) -> None:
        self.writer = writer
        self.summary = summary
        self._max_parts = max_parts
        self._part_count = 0
        self._observers = observers

    def open_part(self, segment: MultipartSegment) -> Part:
        self._part_count += 1
        if self._part_count > self._max_parts:
            raise invalid(IMAGES_FIELD, _("Too many files."))
        check_headers(segment)
        name = segment.name or ""
        if name.casefold() == USER_ID_FIELD:
            return DroppedPart()
        if name in TEXT_FIELDS:
            return self._open_text(name, segment)
        if name in FILE_FIELDS:
            return self._open_file(name, segment)
        raise invalid(name[:128], _("This field is not accepted."))

    def _open_text(self, name: str, segment: MultipartSegment) -> Part:
        if segment.filename is not None:
            raise invalid(name, _("This value must be text."))
        if name in self.summary.fields:
            raise invalid(name, _("This field may only be sent once."))
        # Claims the name now: a duplicate is refused even before this one ends.
        self.summary.fields[name] = ""
        return _TextPart(self, name)

    def _open_file(self, name: str, segment: MultipartSegment) -> Part:
        if segment.filename is None:
            raise invalid(name, _("This field must be a file."))
        if segment.filename == "":
            return _UnchosenFile(name)
        filename = safe_filename(segment.filename)
        if filename is None:
            raise invalid(name, _("The file needs a valid name."))
        if name == MODEL_FIELD:
            if self.summary.model_filename is not None:
                raise invalid(name, _("This field may only be sent once."))
            if not filename.lower().endswith(limits.MODEL_EXTENSIONS):
                raise invalid(name, _("The model must be an .onnx file."))
            self.summary.model_filename = filename
            max_bytes = limits.MAX_MODEL_BYTES
        else:
            if not filename.lower().endswith(limits.IMAGE_EXTENSIONS):
                raise invalid(name, _("Reference images must be JPEG or PNG files."))
            self.summary.image_count += 1
            if self.summary.image_count > limits.MAX_IMAGES:
                raise invalid(name, _("Too many files."))
            max_bytes = limits.MAX_IMAGE_BYTES
        head = self.writer.head(name, filename, safe_media_type(segment.content_type))
        watching = [found for make in self._observers if (found := make(name, filename))]
        if name == IMAGES_FIELD:
            watching.append(_ImageSignature(filename))
        return _FilePart(head, name, max_bytes, watching)

    def check_complete(self) -> None:
        if not self.summary.fields.get(PLATFORM_FIELD):
            raise invalid(PLATFORM_FIELD, _("Choose the target chip."))
        if self.summary.model_filename is None:
            raise invalid(MODEL_FIELD, _("Please choose a model file."))


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


def invalid(name: str, message) -> ValidationFailed:
    return ValidationFailed.for_fields([{"field": name, "message": str(message)}])
