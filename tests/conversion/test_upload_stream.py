"""The upload rewriter: the trust boundary between the browser's form and the converter's."""

from __future__ import annotations

import hashlib
import io
import itertools
import tracemalloc
from collections.abc import Iterable, Iterator

import multipart
import pytest
from django.http import UnreadablePostError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conversion.upload_stream import (
    TEXT_FIELDS,
    UploadInterrupted,
    boundary_from_content_type,
    iter_stream,
    rewrite_upload,
)
from tests.conversion.upstreams import JPEG_START, PNG_START
from visiona.errors import MalformedRequest, UnsupportedMediaType, ValidationFailed

BOUNDARY = "----clientBoundary7MA4YWxkTrZu0gW"
USER = "alice-sub.1"
MODEL = b"\x08\x07onnx\r\n" + bytes(range(256)) * 40
IMAGE_A = JPEG_START + b"a" * 500
IMAGE_B = JPEG_START + b"\r\n" * 300


# --- Building and reading forms -------------------------------------------------


def raw_part(
    disposition: str, content: bytes, *, content_type: str | None = None, extra: str = ""
) -> bytes:
    head = f"Content-Disposition: {disposition}\r\n{extra}"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    return f"--{BOUNDARY}\r\n{head}\r\n".encode() + content + b"\r\n"


def part(name: str, filename: str | None, content: bytes, **kwargs) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
        kwargs.setdefault("content_type", "application/octet-stream")
    return raw_part(disposition, content, **kwargs)


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def standard_parts() -> list[bytes]:
    return [
        part("platform", None, b"720"),
        part("model_id", None, b"32769"),
        part("version", None, b"0001"),
        part("model", "yolo.onnx", MODEL),
        part("ref_images", "a.jpg", IMAGE_A, content_type="image/jpeg"),
        part("ref_images", "b.jpg", IMAGE_B, content_type="image/jpeg"),
    ]


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def rewrite(body: bytes | Iterable[bytes], **kwargs):
    chunks = [body] if isinstance(body, bytes) else body
    upload = rewrite_upload(chunks, boundary=BOUNDARY, user_id=USER, **kwargs)
    return b"".join(upload.chunks), upload


def parse(output: bytes, content_type: str) -> list[multipart.MultipartPart]:
    boundary = content_type.split("boundary=", 1)[1]
    return list(multipart.MultipartParser(io.BytesIO(output), boundary))


def sent(body: bytes | Iterable[bytes]) -> list[tuple[str, str | None, bytes]]:
    output, upload = rewrite(body)
    return [(p.name, p.filename, p.raw) for p in parse(output, upload.content_type)]


def field_errors(excinfo) -> list[str]:
    return [entry["field"] for entry in excinfo.value.details["fields"]]


# --- The user id ----------------------------------------------------------------


def test_the_session_user_id_is_the_first_part():
    output, upload = rewrite(form(*standard_parts()))
    boundary = upload.content_type.removeprefix("multipart/form-data; boundary=")
    first = f'--{boundary}\r\nContent-Disposition: form-data; name="user_id"\r\n\r\n{USER}\r\n'
    assert output.startswith(first.encode())
    assert output.endswith(f"--{boundary}--\r\n".encode())


def test_each_upload_gets_a_new_unguessable_boundary():
    first, second = (rewrite(form(*standard_parts()))[1] for _ in range(2))
    assert first.content_type != second.content_type
    assert BOUNDARY not in first.content_type


@pytest.mark.parametrize("name", ["user_id", "USER_ID", "User_Id"])
@pytest.mark.parametrize("filename", [None, "victim.txt"], ids=["field", "file"])
def test_a_forged_user_id_part_is_dropped(name, filename):
    forged = part(name, filename, b"victim")
    parts = sent(form(forged, *standard_parts(), forged))
    assert [p for p in parts if p[0].casefold() == "user_id"] == [("user_id", None, USER.encode())]
    assert b"victim" not in b"".join(content for _, _, content in parts)


@pytest.mark.parametrize(
    "disposition",
    [
        'form-data; name="platform"; name="user_id"',
        'form-data; name="user_id"; name="platform"',
        'form-data; NAME="platform"; name="user_id"',
        'form-data; name="model"; filename="a.onnx"; filename="b.onnx"',
        "form-data; name=\"model\"; filename*=UTF-8''a.onnx",
        "form-data; name*=UTF-8''user_id",
        'form-data; name="platform" garbage; name="user_id"',
        'form-data; name="platform";',
    ],
)
def test_a_content_disposition_parsers_could_disagree_on_is_refused(disposition):
    with pytest.raises(MalformedRequest):
        rewrite(form(raw_part(disposition, b"720"), *standard_parts()[1:]))


def test_a_second_content_disposition_header_is_refused():
    forged = raw_part(
        'form-data; name="platform"',
        b"720",
        extra='Content-Disposition: form-data; name="user_id"\r\n',
    )
    with pytest.raises(MalformedRequest):
        rewrite(form(forged, *standard_parts()[1:]))


def test_a_user_id_the_converter_would_refuse_is_a_bug_not_a_request():
    with pytest.raises(ValueError):
        rewrite_upload([], boundary=BOUNDARY, user_id="alice\r\n--x")


# --- The allow-list -------------------------------------------------------------


def test_an_unknown_field_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(part("comment", None, b"hi"), *standard_parts()))
    assert field_errors(excinfo) == ["comment"]


@pytest.mark.parametrize("name", sorted(TEXT_FIELDS))
def test_a_text_field_may_only_be_sent_once(name):
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(part(name, None, b"1"), *standard_parts()))
    assert field_errors(excinfo) == [name]


def test_a_long_text_value_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(part("version", None, b"1" * 257), *standard_parts()[3:]))
    assert field_errors(excinfo) == ["version"]


def test_a_text_value_must_be_utf8():
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(part("version", None, b"\xff\xfe"), *standard_parts()[3:]))
    assert field_errors(excinfo) == ["version"]


def test_a_text_field_sent_as_a_file_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(part("platform", "720.txt", b"720"), *standard_parts()[1:]))
    assert field_errors(excinfo) == ["platform"]


def test_a_file_field_sent_as_text_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(*standard_parts()[:3], part("model", None, MODEL)))
    assert field_errors(excinfo) == ["model"]


def test_the_model_is_required():
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(*standard_parts()[:3], *standard_parts()[4:]))
    assert field_errors(excinfo) == ["model"]


def test_only_one_model():
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(*standard_parts(), part("model", "other.onnx", b"x")))
    assert field_errors(excinfo) == ["model"]


def test_an_empty_file_input_is_skipped():
    # What a browser sends for a file input left empty.
    empty = part("ref_images", "", b"")
    parts = sent(form(*standard_parts(), empty))
    assert [name for name, _, _ in parts].count("ref_images") == 2


def test_a_file_without_a_name_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(*standard_parts(), part("ref_images", "", b"data")))
    assert field_errors(excinfo) == ["ref_images"]


@pytest.mark.parametrize("filename", ["dir/", "..", "C:\\x\\..", "%22%22", "%0D%0A"])
def test_a_file_name_with_nothing_usable_left_is_refused(filename):
    with pytest.raises(ValidationFailed):
        rewrite(form(*standard_parts(), part("ref_images", filename, b"data")))


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("notes.png", b"these are my notes\n" * 50),
        ("a.jpg", b"GIF89a" + b"\0" * 100),
        ("e.png", b""),
    ],
)
def test_a_reference_image_that_is_no_jpeg_or_png_inside_is_refused(filename, content):
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(*standard_parts(), part("ref_images", filename, content)))
    assert excinfo.value.details["fields"] == [
        {"field": "ref_images", "message": f"{filename} is not a JPEG or PNG image."}
    ]


def test_an_image_is_judged_by_its_content_not_by_how_its_name_ends():
    parts = sent(form(*standard_parts()[:4], part("ref_images", "photo.jpg", PNG_START + b"x")))
    assert ("ref_images", "photo.jpg", PNG_START + b"x") in parts


def test_a_false_image_is_refused_on_its_first_bytes_before_the_form_ends():
    read = []

    def body() -> Iterator[bytes]:
        yield b"".join(standard_parts()[:4])
        yield part("ref_images", "notes.png", b"plain text, and then a great deal more")[:-2]
        for block in range(1000):
            read.append(block)
            yield b"x" * 1024
        yield b"\r\n" + form()

    with pytest.raises(ValidationFailed):
        rewrite(body())
    assert len(read) <= 1  # refused on the part's first piece, not at its end


def test_too_many_parts():
    images = [part("ref_images", f"{i}.jpg", JPEG_START) for i in range(10)]
    assert rewrite(form(*standard_parts(), *images), max_parts=16)[1].summary.image_count == 12
    with pytest.raises(ValidationFailed) as excinfo:
        rewrite(form(*standard_parts(), *images), max_parts=15)
    assert field_errors(excinfo) == ["ref_images"]


def test_the_default_part_limit_allows_a_full_form():
    images = [part("ref_images", f"{i}.jpg", JPEG_START) for i in range(100)]
    assert rewrite(form(*standard_parts()[:4], *images))[1].summary.image_count == 100
    with pytest.raises(ValidationFailed):
        rewrite(form(*standard_parts()[:4], *images, *images[:7]))


# --- Bytes and headers ------------------------------------------------------------

TRICKY = [
    b"\r\n",
    b"\r\n\r\n",
    b"--",
    b"\r\n--",
    b"\r",
    f"--{BOUNDARY}--".encode(),  # not preceded by CRLF: content, not a delimiter
    f"\r\n--{BOUNDARY[:-1]}".encode(),
    b'\r\nContent-Disposition: form-data; name="user_id"\r\n\r\n',
]


@pytest.mark.parametrize("chunk_size", [1, 7, 4096, 1 << 30])
def test_file_bytes_pass_through_unchanged(chunk_size):
    model = b"x".join(TRICKY) + MODEL + b"".join(TRICKY)
    image = PNG_START + b"\r\n" + b"".join(reversed(TRICKY)) + b"\r"
    body = form(
        *standard_parts()[:3],
        part("model", "yolo.onnx", model),
        part("ref_images", "i.png", image),
        part("ref_images", "bare.png", PNG_START),
    )
    parts = sent(split(body, chunk_size))
    digests = [(n, f, hashlib.sha256(b).hexdigest()) for n, f, b in parts if f is not None]
    assert digests == [
        ("model", "yolo.onnx", hashlib.sha256(model).hexdigest()),
        ("ref_images", "i.png", hashlib.sha256(image).hexdigest()),
        ("ref_images", "bare.png", hashlib.sha256(PNG_START).hexdigest()),
    ]


def test_the_output_parses_back_to_the_same_form():
    output, upload = rewrite(form(*standard_parts()))
    parts = parse(output, upload.content_type)
    assert [(p.name, p.filename, p.content_type) for p in parts] == [
        ("user_id", None, "text/plain"),
        ("platform", None, "text/plain"),
        ("model_id", None, "text/plain"),
        ("version", None, "text/plain"),
        ("model", "yolo.onnx", "application/octet-stream"),
        ("ref_images", "a.jpg", "image/jpeg"),
        ("ref_images", "b.jpg", "image/jpeg"),
    ]
    assert [p.raw for p in parts] == [
        USER.encode(),
        b"720",
        b"32769",
        b"0001",
        MODEL,
        IMAGE_A,
        IMAGE_B,
    ]


def test_the_summary():
    body = form(*standard_parts())
    output, upload = rewrite(split(body, 100))
    summary = upload.summary
    assert summary.fields == {"platform": "720", "model_id": "32769", "version": "0001"}
    assert (summary.model_filename, summary.image_count) == ("yolo.onnx", 2)
    assert (summary.bytes_in, summary.bytes_out) == (len(body), len(output))


def test_no_empty_chunk_is_sent():
    upload = rewrite_upload(split(form(*standard_parts()), 3), boundary=BOUNDARY, user_id=USER)
    assert all(upload.chunks)


def test_big_pieces_are_not_copied_into_small_ones():
    body = form(*standard_parts()[:3], part("model", "m.onnx", b"m" * (1 << 20)))
    sizes = [len(c) for c in rewrite_upload([body], boundary=BOUNDARY, user_id=USER).chunks]
    assert max(sizes) >= 1 << 20
    assert len(sizes) <= 4


@pytest.mark.parametrize(
    ("sent_name", "expected"),
    [
        ("C:\\Users\\me\\yolo.onnx", "yolo.onnx"),
        ("../../etc/yolo.onnx", "yolo.onnx"),
        ('a\\"b.onnx', "ab.onnx"),  # legacy backslash-escaped quote
        ("a%22b.onnx", "ab.onnx"),  # what browsers send for a quote
        ("%22quoted%22.onnx", "quoted.onnx"),
        ("evil%0D%0AX-Injected: 1.onnx", "evilX-Injected: 1.onnx"),
        ("tab\tand\x7fdel\x85nel.onnx", "tabanddelnel.onnx"),
        ("模型.onnx", "模型.onnx"),
    ],
)
def test_file_names_are_rebuilt_without_quotes_or_control_characters(sent_name, expected):
    output, upload = rewrite(form(*standard_parts()[:3], part("model", sent_name, MODEL)))
    assert upload.summary.model_filename == expected
    # Stripped, never escaped: the converter's parser need not understand escapes.
    head = f'; filename="{expected}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    assert head.encode() in output
    assert b"\\" not in output.split(MODEL)[0]
    (model,) = [p for p in parse(output, upload.content_type) if p.name == "model"]
    assert (model.filename, model.raw) == (expected, MODEL)


def test_part_headers_are_never_copied():
    sneaky = part(
        "model",
        "yolo.onnx",
        MODEL,
        extra="X-Injected: 1\r\nContent-Length: 10240\r\n".replace("10240", str(len(MODEL))),
    )
    output, _ = rewrite(form(*standard_parts()[:3], sneaky))
    assert b"X-Injected" not in output
    assert b"Content-Length" not in output


@pytest.mark.parametrize(
    ("sent_type", "expected"),
    [
        ("image/png", "image/png"),
        ("IMAGE/PNG; charset=x", "image/png"),
        ("application/vnd.onnx+protobuf", "application/vnd.onnx+protobuf"),
        ("text/html<script>", "application/octet-stream"),
        ("nonsense", "application/octet-stream"),
        ("a/b/c", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_only_plain_media_types_pass(sent_type, expected):
    image = raw_part(
        'form-data; name="ref_images"; filename="i.png"', PNG_START, content_type=sent_type
    )
    output, _ = rewrite(form(*standard_parts()[:4], image))
    assert f"Content-Type: {expected}\r\n\r\n".encode() + PNG_START in output


def test_a_second_content_type_header_is_refused():
    image = part("ref_images", "i.png", PNG_START, extra="Content-Type: text/html\r\n")
    with pytest.raises(MalformedRequest):
        rewrite(form(*standard_parts(), image))


def test_an_oversized_header_is_refused():
    image = part("ref_images", "i" * 9000 + ".png", PNG_START)
    with pytest.raises(MalformedRequest):
        rewrite(form(*standard_parts(), image))


def test_a_preamble_and_an_epilogue_are_ignored():
    body = b"preamble\r\n" + form(*standard_parts()) + b"epilogue"
    assert [name for name, _, _ in sent(body)][:2] == ["user_id", "platform"]


# --- Broken and cut-short bodies --------------------------------------------------


@pytest.mark.parametrize("cut", [1, 40, 200, -300, -40, -5, -3])
def test_a_cut_short_form_raises_instead_of_ending(cut):
    body = form(*standard_parts())[:cut]
    upload = rewrite_upload(split(body, 64), boundary=BOUNDARY, user_id=USER)
    with pytest.raises(MalformedRequest):
        for chunk in upload.chunks:
            assert not chunk.endswith(b"--\r\n")


def test_not_multipart_at_all():
    with pytest.raises(MalformedRequest):
        rewrite(b"this is not multipart at all" * 10)


def test_an_empty_body():
    with pytest.raises(MalformedRequest):
        rewrite([])


def test_a_bad_part_header():
    with pytest.raises(MalformedRequest):
        rewrite(form(raw_part("attachment", b"x"), *standard_parts()))


def test_an_interrupted_stream_stays_an_interruption():
    body = form(*standard_parts())
    stream = io.BytesIO(body[:-100])
    upload = rewrite_upload(
        iter_stream(stream, expected_length=len(body)), boundary=BOUNDARY, user_id=USER
    )
    with pytest.raises(UploadInterrupted):
        b"".join(upload.chunks)


def test_nothing_is_read_before_the_chunks_are_consumed():
    def explode() -> Iterator[bytes]:
        raise AssertionError("read too early")
        yield b""

    upload = rewrite_upload(explode(), boundary=BOUNDARY, user_id=USER)
    assert upload.summary.bytes_in == 0


# --- Reading the request stream ---------------------------------------------------


class RecordingStream(io.BytesIO):
    def __init__(self, data: bytes, fail_after: int | None = None, error=OSError):
        super().__init__(data)
        self.requested: list[int] = []
        self.fail_after = fail_after
        self.error = error

    def read(self, size: int = -1) -> bytes:
        self.requested.append(size)
        if self.fail_after is not None and len(self.requested) > self.fail_after:
            raise self.error("client went away")
        return super().read(size)


def test_iter_stream_reads_exactly_the_expected_length_in_large_blocks():
    stream = RecordingStream(b"a" * 2500 + b"beyond the body")
    chunks = list(iter_stream(stream, expected_length=2500, chunk_size=1000))
    assert b"".join(chunks) == b"a" * 2500
    assert stream.requested == [1000, 1000, 500]


def test_iter_stream_defaults_to_one_mebibyte_reads():
    stream = RecordingStream(b"a" * (3 << 20))
    assert sum(map(len, iter_stream(stream, expected_length=3 << 20))) == 3 << 20
    assert stream.requested == [1 << 20] * 3


def test_iter_stream_is_lazy():
    stream = RecordingStream(b"abc")
    iter_stream(stream, expected_length=3)
    assert stream.requested == []


def test_a_short_stream_is_an_interruption():
    with pytest.raises(UploadInterrupted) as excinfo:
        list(iter_stream(RecordingStream(b"a" * 10), expected_length=11, chunk_size=4))
    assert (excinfo.value.status, excinfo.value.code) == (400, "upload_interrupted")


@pytest.mark.parametrize("error", [OSError, UnreadablePostError, ConnectionResetError])
def test_a_failing_read_is_an_interruption(error):
    stream = RecordingStream(b"a" * 10, fail_after=1, error=error)
    chunks = iter_stream(stream, expected_length=10, chunk_size=4)
    assert next(chunks) == b"aaaa"
    with pytest.raises(UploadInterrupted):
        next(chunks)


def test_an_empty_body_reads_nothing():
    stream = RecordingStream(b"abc")
    assert list(iter_stream(stream, expected_length=0)) == []
    assert stream.requested == []


# --- The Content-Type header -------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        (f"multipart/form-data; boundary={BOUNDARY}", BOUNDARY),
        ("Multipart/Form-Data; charset=utf-8; boundary=abc", "abc"),
        ('multipart/form-data; boundary="a b:c?d"', "a b:c?d"),
        ("multipart/form-data; boundary=" + "x" * 70, "x" * 70),
    ],
)
def test_the_boundary_is_read_from_the_content_type(content_type, boundary):
    assert boundary_from_content_type(content_type) == boundary


@pytest.mark.parametrize(
    "content_type",
    ["", "application/json", "text/plain; boundary=abc", "multipart/mixed; boundary=a"],
)
def test_only_multipart_form_data_is_accepted(content_type):
    with pytest.raises(UnsupportedMediaType):
        boundary_from_content_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
        "multipart/form-data; boundary=" + "x" * 71,
        'multipart/form-data; boundary="ends with space "',
        'multipart/form-data; boundary="semi;colon"',
        'multipart/form-data; boundary="new\\nline"',
    ],
)
def test_a_missing_or_invalid_boundary_is_malformed(content_type):
    with pytest.raises(MalformedRequest):
        boundary_from_content_type(content_type)


# --- Properties ------------------------------------------------------------------

DELIMITER = f"\r\n--{BOUNDARY}".encode()
contents = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(st.sampled_from(TRICKY), st.binary(max_size=20)), max_size=8).map(b"".join),
)
filenames = st.from_regex(r"[A-Za-z0-9_-]{1,12}\.(onnx|jpg|png)", fullmatch=True)
forged_user_ids = st.tuples(
    st.sampled_from(["user_id", "USER_ID", "User_ID"]),
    st.one_of(st.none(), filenames),
    contents,
)
images = st.tuples(
    st.just("ref_images"),
    st.from_regex(r"[A-Za-z0-9_-]{1,12}\.(jpg|png)", fullmatch=True),
    contents.map(lambda content: PNG_START + content),
)
# Values the rewriter accepts: the page's rules for each small field.
valid_text = {
    "platform": st.sampled_from(["520", "720", "530", "630", "730"]),
    "model_id": st.integers(32768, 65535).map(str),
    "version": st.from_regex(r"[0-9A-Fa-f]{4}", fullmatch=True),
}


@st.composite
def forms(draw) -> list[tuple[str, str | None, bytes]]:
    optional = draw(st.lists(st.sampled_from(["model_id", "version"]), unique=True))
    texts = ["platform", *optional]
    text_parts = [(name, None, draw(valid_text[name]).encode()) for name in texts]
    model_name = draw(st.from_regex(r"[A-Za-z0-9_-]{1,12}\.onnx", fullmatch=True))
    model = ("model", model_name, draw(contents))
    extra = draw(st.lists(st.one_of(forged_user_ids, images), max_size=8))
    return draw(st.permutations([*text_parts, model, *extra]))


def chunked(data: bytes, sizes: list[int]) -> Iterator[bytes]:
    position = 0
    for size in itertools.cycle(sizes or [len(data) or 1]):
        if position >= len(data):
            return
        yield data[position : position + size]
        position += size


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=forms(), sizes=st.lists(st.integers(1, 200), max_size=10))
def test_any_form_keeps_its_files_and_only_the_real_user_id(parts, sizes):
    assume(all(DELIMITER not in content for _, _, content in parts))
    body = form(*(part(name, filename, content) for name, filename, content in parts))
    output, upload = rewrite(chunked(body, sizes))

    boundary = upload.content_type.removeprefix("multipart/form-data; boundary=")
    assert output.startswith(
        f'--{boundary}\r\nContent-Disposition: form-data; name="user_id"\r\n\r\n{USER}\r\n'.encode()
    )
    received = [(p.name, p.filename, p.raw) for p in parse(output, upload.content_type)]
    assert received[0] == ("user_id", None, USER.encode())
    assert not [p for p in received[1:] if p[0].casefold() == "user_id"]
    assert received[1:] == [p for p in parts if p[0].casefold() != "user_id"]


# --- Memory ----------------------------------------------------------------------


def lazy_form(model_mib: int) -> Iterator[bytes]:
    block = bytes(range(256)) * 4096  # 1 MiB, reused: the test must not hold the body
    yield b"".join(standard_parts()[:3])
    yield f"--{BOUNDARY}\r\n".encode()
    yield b'Content-Disposition: form-data; name="model"; filename="big.onnx"\r\n'
    yield b"Content-Type: application/octet-stream\r\n\r\n"
    for _ in range(model_mib):
        yield block
    yield b"\r\n" + form(*standard_parts()[4:])


def test_memory_does_not_grow_with_the_upload():
    upload = rewrite_upload(lazy_form(64), boundary=BOUNDARY, user_id=USER)
    tracemalloc.start()
    try:
        sent_bytes = sum(len(chunk) for chunk in upload.chunks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert upload.summary.bytes_in > 64 << 20
    assert sent_bytes == upload.summary.bytes_out > 64 << 20
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB"


# --- The page's rules, enforced here too ----------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("platform", b"999"),
        ("platform", b"KL720"),
        ("model_id", b"32767"),
        ("model_id", b"65536"),
        ("model_id", b"12a"),
        ("version", b"01"),
        ("version", b"00G1"),
    ],
)
def test_a_bad_field_value_is_refused_with_its_field(name, value):
    parts = [p for p in standard_parts() if f'name="{name}"'.encode() not in p]
    with pytest.raises(ValidationFailed) as caught:
        rewrite(form(part(name, None, value), *parts))
    assert field_errors(caught) == [name]


def test_the_platform_is_required():
    parts = [p for p in standard_parts() if b'name="platform"' not in p]
    with pytest.raises(ValidationFailed) as caught:
        rewrite(form(*parts))
    assert field_errors(caught) == ["platform"]


@pytest.mark.parametrize(
    ("name", "filename"),
    [("model", "yolo.pt"), ("ref_images", "a.gif"), ("ref_images", "a.jpg.exe")],
)
def test_wrong_file_types_are_refused(name, filename):
    with pytest.raises(ValidationFailed) as caught:
        rewrite(form(*standard_parts(), part(name, filename, b"x")))
    assert field_errors(caught) == [name]


def test_a_file_over_its_limit_stops_the_upload(monkeypatch):
    from conversion import limits
    from visiona.errors import PayloadTooLarge

    monkeypatch.setattr(limits, "MAX_IMAGE_BYTES", 100)
    upload = rewrite_upload([form(*standard_parts())], boundary=BOUNDARY, user_id=USER)
    with pytest.raises(PayloadTooLarge) as caught:
        b"".join(upload.chunks)
    assert caught.value.details == {"field": "ref_images"}
