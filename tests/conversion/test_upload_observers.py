"""The per-part observer seam of the upload rewriter (a scanner of the model, say):
fed a kept file part's bytes as they pass, able to refuse the upload."""

from __future__ import annotations

import pytest

from tests.conversion.test_upload_stream import MODEL, form, parse, rewrite, split, standard_parts
from visiona.errors import ValidationFailed


class Recorder:
    def __init__(self, name: str, filename: str) -> None:
        self.name, self.filename = name, filename
        self.data = bytearray()
        self.finished = False

    def feed(self, data: bytes) -> None:
        self.data += data

    def finish(self) -> None:
        self.finished = True


def test_an_observer_sees_the_models_bytes_exactly_as_they_pass():
    seen: list[Recorder] = []

    def model_only(name: str, filename: str):
        if name != "model":
            return None
        seen.append(Recorder(name, filename))
        return seen[-1]

    output, upload = rewrite(split(form(*standard_parts()), 7), observers=[model_only])
    assert [(r.name, r.filename, bytes(r.data), r.finished) for r in seen] == [
        ("model", "yolo.onnx", MODEL, True)
    ]
    assert [p.raw for p in parse(output, upload.content_type) if p.name == "model"] == [MODEL]


class Refuses:
    def feed(self, data: bytes) -> None:
        if b"onnx" in data:
            raise ValidationFailed.for_fields([{"field": "model", "message": "refused"}])

    def finish(self) -> None:  # pragma: no cover - never reached
        raise AssertionError


def test_an_observer_that_refuses_stops_the_upload_before_its_end():
    with pytest.raises(ValidationFailed):
        rewrite(form(*standard_parts()), observers=[lambda name, filename: Refuses()])
