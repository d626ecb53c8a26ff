"""The pre-flight's verdict per chip, on real ONNX models, against Kneron's table."""

from __future__ import annotations

import json

import pytest
from visiona_client.preflight import OnnxSummary, Scanner, check, format_report
from visiona_client.preflight.limits import MIB, NEF_CAP_BYTES

from tests import onnx_models as om


def report_for(built, chip="KL720"):
    scanner = Scanner()
    scanner.feed(om.bytes_of(built))
    return check(scanner.finish(), chip)


def codes(findings):
    return [finding.code for finding in findings]


def test_a_model_the_npu_runs_has_no_findings():
    report = report_for(om.model(("Conv", "Relu", "MaxPool", "Add")))
    assert report.ok and report.warnings == []
    rows = {row["op_type"]: row for row in report.operators}
    assert rows["Relu"]["support"] == "npu"
    assert (rows["Conv"]["support"], rows["Conv"]["note"]) == ("npu_if", 7)


@pytest.mark.parametrize(
    ("op", "chip", "cpu", "note"),
    [
        ("Softmax", "KL720", True, 39),  # N with a note: decomposed
        ("Softmax", "730", False, None),  # Y40 on the 730
        ("Div", "KL520", True, None),
        ("Div", "KL530", False, None),
        ("Abs", "KL630", True, None),
        ("Abs", "KL730", False, None),
        ("MatMul", "KL520", True, None),
        ("Sigmoid", "KL520", True, None),
        ("Sigmoid", "KL720", False, None),
    ],
)
def test_operators_on_the_cpu_are_warnings_per_chip(op, chip, cpu, note):
    report = report_for(om.model((op,)), chip)
    assert report.ok
    cpu_findings = [f for f in report.warnings if f.code == "cpu_operator"]
    if not cpu:
        assert cpu_findings == []
        return
    (finding,) = cpu_findings
    assert finding.details["op_type"] == op and finding.details["count"] == 1
    assert op in finding.message and f"KL{chip.removeprefix('KL')}" in finding.message
    assert finding.details.get("note") == note
    if note:
        assert "ReduceSum + Div + Exp" in finding.message


def test_an_operator_the_table_lacks_is_a_warning():
    report = report_for(om.model(("Gelu",), opset=18))
    assert codes(report.warnings) == ["unlisted_operator"]


def test_a_custom_domain_is_a_blocker_that_names_the_operator():
    report = report_for(om.model(("Relu", "FancyOp"), domain="com.example"))
    assert not report.ok
    (finding,) = report.blockers
    assert finding.code == "custom_domain"
    assert "com.example::FancyOp" in finding.message
    assert {"op_type": "Relu", "domain": "com.example", "count": 1} in finding.details["operators"]


def test_a_custom_operator_inside_a_subgraph_is_found_too():
    built = om.with_subgraph()
    built.graph.node[1].attribute[0].g.node[0].domain = "com.vendor"
    report = report_for(built)
    assert codes(report.blockers) == ["custom_domain"]


@pytest.mark.parametrize(
    ("opset", "ok"), [(7, False), (8, True), (13, True), (18, True), (19, False)]
)
def test_opsets_outside_8_to_18_are_blockers(opset, ok):
    report = report_for(om.model(opset=opset))
    assert report.ok is ok
    if not ok:
        (finding,) = report.blockers
        assert finding.code == "opset_unsupported"
        assert finding.details == {"opset": opset, "supported": [8, 18]}


def test_external_data_is_a_blocker(tmp_path):
    from visiona_client.preflight import scan_file

    report = check(scan_file(om.save_with_external_data(om.model(weights=64), tmp_path)), "720")
    assert codes(report.blockers) == ["external_data"]
    assert "external.onnx.data" in report.blockers[0].message


def test_more_than_one_input_is_a_blocker():
    report = report_for(om.model(inputs=2))
    assert codes(report.blockers) == ["multiple_inputs"]
    assert report.blockers[0].details["inputs"] == ["x", "x1"]


def test_weights_listed_as_inputs_are_not_inputs():
    assert report_for(om.ir3_with_weights_as_inputs()).ok


@pytest.mark.parametrize(
    ("shape", "code"),
    [
        (["N", 3, 224, 224], "dynamic_shape"),
        ([1, 3, None, None], "dynamic_shape"),
        ([4, 3, 224, 224], "batch_size"),
        ([1, 3, 224, 224], None),
    ],
)
def test_dynamic_and_batched_inputs_are_warnings(shape, code):
    report = report_for(om.model(input_shape=shape))
    assert report.ok
    assert codes(report.warnings) == ([code] if code else [])


def test_an_lfs_pointer_and_garbage_are_blockers():
    scanner = Scanner()
    scanner.feed(b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 10\n")
    assert codes(check(scanner.finish(), "720").blockers) == ["lfs_pointer"]
    scanner = Scanner()
    scanner.feed(b"\xff" * 100)
    report = check(scanner.finish(), "720")
    assert codes(report.blockers) == ["not_onnx"] and report.warnings == []


def test_a_model_near_the_chips_nef_cap_is_a_warning():
    summary = OnnxSummary(is_onnx=True, opset_imports={"": 13}, ir_version=8)
    summary.weight_elements = int(NEF_CAP_BYTES["520"] * 0.9)
    assert codes(check(summary, "KL520").warnings) == ["near_nef_cap"]
    assert codes(check(summary, "KL730").warnings) == []
    summary.weight_elements = 10 * MIB
    assert codes(check(summary, "KL520").warnings) == []


def test_a_real_model_with_many_weights_comes_near_the_cap():
    # 28 Mi weights: about 28 MiB once quantized, near the KL520's 32 MiB working cap.
    scanner = Scanner()
    for piece in om.large_model_stream(28 * MIB):
        scanner.feed(piece)
    summary = scanner.finish()
    assert codes(check(summary, "520").warnings) == ["near_nef_cap"]
    assert check(summary, "720").warnings == []


@pytest.mark.parametrize("chip", ["KL720", "720", "kl720"])
def test_the_chip_may_be_named_either_way(chip):
    assert report_for(om.model(), chip).chip == "KL720"


def test_an_unknown_chip_is_refused():
    with pytest.raises(ValueError, match="KL520"):
        report_for(om.model(), "KL999")


def test_the_report_as_json_has_stable_keys():
    report = report_for(om.model(("Softmax",), input_shape=["N", 3, 8, 8]))
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) >= {"chip", "blockers", "warnings", "summary"}
    assert data["chip"] == "KL720" and data["ok"] is True
    assert [w["code"] for w in data["warnings"]] == ["cpu_operator", "dynamic_shape"]
    assert data["summary"]["inputs"] == [{"name": "x", "elem_type": 1, "shape": [None, 3, 8, 8]}]
    softmax = data["summary"]["operators"][0]
    assert (softmax["op_type"], softmax["support"], softmax["note"]) == ("Softmax", "cpu", 39)


def test_the_text_report():
    text = format_report(report_for(om.model(("Conv", "Softmax"), domain="", opset=13)))
    assert text.startswith("Pre-flight for KL720: OK")
    assert "[cpu_operator] Softmax" in text and "Conv (1): note 7" in text
    blocked = format_report(report_for(om.model(("X",), domain="com.example")))
    assert "BLOCKED" in blocked and "[custom_domain]" in blocked
