"""The streaming upload proxy's rewriter: the browser's form in, the converter's form out.

It reads the raw request body as it arrives and yields the new form as it goes,
never holding a whole file in memory. Three seams, one module each:

- ``upload_reading``: the request body in large blocks, the boundary and the part
  headers parsed strictly;
- ``upload_policy``: what the converter gets (the trust boundary: ``user_id``
  dropped and replaced, fields allow-listed and checked, size limits, and
  observers of a kept part's bytes, such as a model scanner);
- ``upload_framing``: the outgoing form's rebuilt heads and delimiters, joined
  into sensible pieces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from multipart import MultipartError, MultipartSegment, PushMultipartParser

from conversion.upload_framing import FormWriter, Output, new_boundary
from conversion.upload_policy import (
    MAX_PARTS,
    TEXT_FIELDS,
    USER_ID_FIELD,
    USER_ID_PATTERN,
    DroppedPart,
    Form,
    ObserverFactory,
    Part,
    PartObserver,
    UploadSummary,
)
from conversion.upload_reading import (
    MAX_HEADER_COUNT,
    MAX_HEADER_SIZE,
    UploadInterrupted,
    boundary_from_content_type,
    iter_stream,
)
from visiona.errors import MalformedRequest

__all__ = [
    "TEXT_FIELDS",
    "USER_ID_PATTERN",
    "ObserverFactory",
    "PartObserver",
    "RewrittenUpload",
    "UploadInterrupted",
    "UploadSummary",
    "boundary_from_content_type",
    "iter_stream",
    "rewrite_upload",
]


@dataclass(frozen=True)
class RewrittenUpload:
    chunks: Iterator[bytes]
    content_type: str
    summary: UploadSummary


def rewrite_upload(
    chunks: Iterable[bytes],
    *,
    boundary: str,
    user_id: str,
    max_parts: int = MAX_PARTS,
    observers: Sequence[ObserverFactory] = (),
) -> RewrittenUpload:
    """The converter's form, built lazily from the client's as ``chunks`` arrive.

    Consuming ``.chunks`` raises an ``AppError`` (the form is invalid, malformed or
    cut short, or an observer refused a part) instead of ever ending a form the
    client did not finish. ``observers`` are called for each kept file part.
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
    writer = FormWriter(new_boundary())
    summary = UploadSummary()
    form = Form(writer, summary, max_parts, observers)
    return RewrittenUpload(
        chunks=_rewrite(chunks, parser, form, user_id),
        content_type=writer.content_type,
        summary=summary,
    )


def _rewrite(
    chunks: Iterable[bytes], parser: PushMultipartParser, form: Form, user_id: str
) -> Iterator[bytes]:
    out = Output()
    try:
        yield from out.put(form.writer.text_part(USER_ID_FIELD, user_id.encode()))
        part: Part = DroppedPart()
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
        yield from out.put(form.writer.closing_delimiter())
        yield from out.flush()
    finally:
        form.summary.bytes_out = out.bytes_out
