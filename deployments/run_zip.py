"""Every input's outputs of a run as one ``.zip``, written as it is sent: zipfile writes
to a sink the response drains after each block (no seek: data descriptors), so one
block is held, never the archive."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath

from django.http import StreamingHttpResponse

from deployments import run_files
from deployments.run_choices import RunInputState
from deployments.run_models import Run
from visiona.file_names import shorten_file_name


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._pieces.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        pieces, self._pieces = self._pieces, []
        return b"".join(pieces)


def _archive(run: Run) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        items = run.inputs.filter(state=RunInputState.DONE).order_by("index").iterator()
        for item in items:
            # Unzipped as a file: within a file system's 255 bytes, like a stored name.
            stem = shorten_file_name(PurePosixPath(item.name).stem, max_bytes=200) or "input"
            with archive.open(f"{item.index:03d}-{stem}.npz", "w", force_zip64=True) as member:
                for block in run_files.chunks(item.output_file):
                    member.write(block)
                    yield sink.take()
    yield sink.take()


def outputs_zip(run: Run) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_archive(run), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-outputs.zip"'
    return response
