"""The sample model shipped in static/samples/: real ONNX that the pre-flight passes
for every chip, rebuilt byte for byte by its script, and a classifier whose answer
differs from image to image (each calibration image's top-1 is its own class)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx.reference import ReferenceEvaluator
from visiona_client import preflight

from sandbox.samples import build_sample

SAMPLES = Path(__file__).resolve().parent.parent / "static" / "samples"
MODEL = SAMPLES / build_sample.MODEL_NAME
TOP1 = {
    "red-disc": "red",
    "green-square": "green",
    "blue-triangle": "blue",
    "white-sky": "bright",
    "night": "dark",
    "horizontal-stripes": "horizontal stripes",
    "vertical-stripes": "vertical stripes",
    "diagonal-stripes": "diagonal stripes",
    "rainbow": "colourful",
    "grey-card": "grey",
}


def test_the_committed_files_are_what_the_script_builds():
    assert MODEL.read_bytes() == build_sample.model().SerializeToString()
    built = build_sample.images()
    assert sorted(path.stem for path in (SAMPLES / "calibration").glob("*.png")) == sorted(built)
    for name, picture in built.items():
        assert (SAMPLES / "calibration" / f"{name}.png").read_bytes() == build_sample.png(picture)
    labels = (SAMPLES / "labels.txt").read_text().splitlines()
    assert labels == list(build_sample.LABELS)


def test_it_is_a_few_kilobytes():
    assert 2_000 < MODEL.stat().st_size < 16_000


@pytest.mark.parametrize("chip", ["KL520", "KL720", "KL530", "KL630", "KL730"])
def test_the_preflight_has_nothing_to_say_for_any_chip(chip):
    report = preflight.check(preflight.scan_file(MODEL), chip)
    assert report.ok
    assert report.blockers == [] and report.warnings == []
    assert {row["support"] for row in report.operators} <= {"npu", "npu_if"}


def test_its_shape_is_one_image_in_ten_logits_out():
    summary = preflight.scan_file(MODEL)
    assert [(value.name, list(value.shape)) for value in summary.inputs] == [
        ("image", [1, 3, 64, 64])
    ]


def test_each_calibration_image_is_its_own_class():
    session = ReferenceEvaluator(str(MODEL))
    answers = {}
    for name, picture in build_sample.images().items():
        (logits,) = session.run(None, {"image": build_sample.as_input(picture)})
        assert logits.shape == (1, 10, 1, 1)
        answers[name] = build_sample.LABELS[int(np.argmax(logits))]
    assert answers == TOP1
    assert len(set(answers.values())) == len(build_sample.LABELS)


def test_the_png_files_are_png():
    for path in (SAMPLES / "calibration").glob("*.png"):
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
