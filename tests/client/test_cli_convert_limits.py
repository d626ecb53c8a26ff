"""``visiona convert`` checks the model and the images as the converter would, before it
sends a byte: the count, each image's type and size, the model's size. Its limits are
the server's (conversion/limits.py)."""

from __future__ import annotations

import json

import pytest
import responses
from visiona_client.visiona_cli import convert, exit_codes
from visiona_client.visiona_cli import main as cli_main

from conversion import limits
from tests.client.cli_helpers import point_cli_at


def test_the_clis_limits_are_the_servers():
    assert convert.MAX_IMAGES == limits.MAX_IMAGES
    assert convert.MAX_IMAGE_BYTES == limits.MAX_IMAGE_BYTES
    assert convert.MAX_MODEL_BYTES == limits.MAX_MODEL_BYTES
    assert frozenset(limits.IMAGE_EXTENSIONS) == convert.IMAGE_SUFFIXES
    assert limits.IMAGE_SIGNATURES == convert.IMAGE_SIGNATURES
    assert (convert.MIN_USER_MODEL_ID, convert.MAX_MODEL_ID, convert.DEFAULT_MODEL_ID) == (
        limits.MIN_USER_MODEL_ID,
        limits.MAX_MODEL_ID,
        limits.DEFAULT_MODEL_ID,
    )


@pytest.fixture
def nothing_sent(monkeypatch, tmp_path):
    """The server as responses sees it: any request at all fails the test."""
    point_cli_at(monkeypatch, tmp_path / "config")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        assert len(mock.calls) == 0, "the CLI sent something"


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"onnx")
    return path


def sparse(path, size: int):
    """A PNG's first bytes, then zeros up to ``size`` bytes that take no room on disk."""
    with open(path, "wb") as handle:
        handle.write(convert.IMAGE_SIGNATURES[1][:size])
        handle.truncate(size)
    return path


def run(capsys, model, *images):
    arguments = ["convert", str(model), "--chip", "720", "--no-check", "--json"]
    if images:
        arguments += ["--images", *map(str, images)]
    code = cli_main.main(arguments)
    captured = capsys.readouterr()
    return code, captured.err, json.loads(captured.out)


@pytest.mark.parametrize("size", [limits.MAX_IMAGE_BYTES + 1, 64 * limits.MIB])
def test_an_oversized_image_is_refused_before_sending(nothing_sent, capsys, model, tmp_path, size):
    good = sparse(tmp_path / "a.jpg", 1000)
    big = sparse(tmp_path / "big.png", size)
    code, err, out = run(capsys, model, good, big)
    assert code == exit_codes.BAD_INPUT
    assert "big.png" in err and "a.jpg" not in err
    assert out["error"]["code"] == "image_not_accepted"


def test_an_image_of_exactly_the_limit_is_not_refused_for_its_size(tmp_path):
    image = sparse(tmp_path / "edge.jpg", limits.MAX_IMAGE_BYTES)
    assert convert.collect_images([image]) == [image]


@pytest.mark.parametrize("name", ["notes.txt", "photo.gif", "scan.jpeg.bak"])
def test_a_file_that_is_not_an_image_is_refused(nothing_sent, capsys, model, tmp_path, name):
    code, err, _out = run(capsys, model, sparse(tmp_path / name, 10))
    assert code == exit_codes.BAD_INPUT
    assert name in err


@pytest.mark.parametrize("content", [b"my notes, not a picture", b"GIF89a" + bytes(100)])
def test_a_file_named_like_an_image_that_is_none_is_refused(
    nothing_sent, capsys, model, tmp_path, content
):
    (tmp_path / "a.png").write_bytes(content)
    good = sparse(tmp_path / "b.jpg", 100)
    code, err, out = run(capsys, model, tmp_path / "a.png", good)
    assert code == exit_codes.BAD_INPUT
    assert out["error"]["code"] == "image_not_accepted"
    assert "a.png: named like an image, but it is no JPEG or PNG inside" in err
    assert "b.jpg" not in err


def test_an_empty_image_is_refused(nothing_sent, capsys, model, tmp_path):
    code, err, _out = run(capsys, model, sparse(tmp_path / "empty.jpg", 0))
    assert code == exit_codes.BAD_INPUT
    assert "empty" in err


def test_too_many_images_in_a_folder_are_refused(nothing_sent, capsys, model, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(limits.MAX_IMAGES + 1):
        sparse(folder / f"{index:03d}.jpg", 10)
    (folder / "readme.txt").write_text("not an image: not counted")
    code, err, _out = run(capsys, model, folder)
    assert code == exit_codes.BAD_INPUT
    assert f"{limits.MAX_IMAGES + 1} images" in err


def test_a_folder_at_the_limit_is_accepted(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(limits.MAX_IMAGES):
        sparse(folder / f"{index:03d}.png", 10)
    assert len(convert.collect_images([folder])) == limits.MAX_IMAGES


def test_an_oversized_model_is_refused_before_sending(nothing_sent, capsys, tmp_path):
    big = sparse(tmp_path / "huge.onnx", limits.MAX_MODEL_BYTES + 1)
    code, err, out = run(capsys, big)
    assert code == exit_codes.BAD_INPUT
    assert out["error"]["code"] == "model_too_large"
    assert "huge.onnx" in err
