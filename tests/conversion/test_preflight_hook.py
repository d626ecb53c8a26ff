"""The rewriter's per-part observer: the observed part's last piece is held until the
observer's verdict, so a refusal never lets the converter see a complete form."""

from __future__ import annotations

import pytest

from conversion.upload_stream import rewrite_upload
from tests.conversion.upstreams import BOUNDARY, multipart_body, standard_parts
from visiona.errors import ValidationFailed


class Recorder:
    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.seen = bytearray()
        self.finished = False

    def feed(self, data: bytes) -> None:
        self.seen += data

    def finish(self) -> None:
        self.finished = True
        if self.refuse:
            raise ValidationFailed()


def run(model: bytes, refuse: bool, chunk: int = 4096):
    observers = {}

    def observe(name, filename):
        if name != "model":
            return None
        observers[name] = Recorder(refuse)
        return observers[name]

    body = multipart_body(standard_parts(model))
    chunks = (body[i : i + chunk] for i in range(0, len(body), chunk))
    upload = rewrite_upload(chunks, boundary=BOUNDARY, user_id="alice", observers=[observe])
    out = bytearray()
    try:
        for piece in upload.chunks:
            out += piece
    except ValidationFailed:
        return out, observers["model"], True
    return out, observers["model"], False


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_the_observer_sees_every_byte_and_the_form_is_unchanged(chunk):
    model = bytes(range(256)) * 400
    out, recorder, refused = run(model, refuse=False, chunk=chunk)
    assert not refused and recorder.finished
    assert bytes(recorder.seen) == model
    assert model in out and out.endswith(b"--\r\n")


def test_a_refusal_holds_back_the_parts_end():
    model = b"M" * 300_000 + b"THE-LAST-BYTES"
    out, recorder, refused = run(model, refuse=True, chunk=64 * 1024)
    assert refused and recorder.finished
    assert b"THE-LAST-BYTES" not in out  # the model never reached the converter whole
    assert b"ref_images" not in out  # nor anything after it


def test_parts_without_an_observer_pass_as_before():
    body = multipart_body(standard_parts())
    upload = rewrite_upload([body], boundary=BOUNDARY, user_id="alice", observers=())
    assert b"".join(upload.chunks).endswith(b"--\r\n")
