"""A user's file name cut to fit a file system's 255 bytes or a column's width."""

from __future__ import annotations

from visiona.file_names import shorten_file_name


def test_a_name_that_fits_is_kept():
    assert shorten_file_name("yolo v5.onnx", max_bytes=200, max_chars=255) == "yolo v5.onnx"


def test_a_long_ascii_name_keeps_its_extension_within_the_bytes():
    name = shorten_file_name("m" * 300 + ".onnx", max_bytes=200)
    assert name == "m" * 195 + ".onnx"
    assert len(name.encode()) == 200


def test_a_long_cjk_name_is_cut_between_characters():
    # Three bytes each in UTF-8: 200 bytes leave room for 65 characters and ".nef".
    name = shorten_file_name("模型" * 100 + ".nef", max_bytes=200)
    assert name.endswith(".nef")
    assert len(name.encode()) <= 200
    assert name[:-4] == ("模型" * 100)[: len(name) - 4]
    assert len(name) - 4 == (200 - 4) // 3


def test_characters_are_counted_for_a_column():
    name = shorten_file_name("模" * 300 + ".onnx", max_chars=255)
    assert name == "模" * 250 + ".onnx"


def test_a_long_extension_is_no_extension():
    name = shorten_file_name("a." + "x" * 300, max_bytes=100)
    assert name == ("a." + "x" * 300)[:100]


def test_a_lone_surrogate_is_no_error():
    name = shorten_file_name("\udce9" * 300 + ".nef", max_bytes=50)
    assert name.endswith(".nef") and len(name) <= 50
