"""A run's figures: agreement and latency equal numpy's computed by hand; expectations."""

from __future__ import annotations

import numpy as np
import pytest
from visiona_client.run_figures import (
    AgreementTotals,
    compare,
    gate_figures,
    latency_summary,
    parse_expectations,
)

RNG = np.random.default_rng(7)


def test_agreement_equals_numpy_by_hand():
    reference = RNG.normal(size=(1, 10)).astype(np.float32)
    device = (reference + RNG.normal(0, 0.05, size=(1, 10))).astype(np.float32)
    figures = compare(reference, device)
    r, d = reference.astype(np.float64).ravel(), device.astype(np.float64).ravel()
    assert figures["cosine"] == pytest.approx(r @ d / (np.linalg.norm(r) * np.linalg.norm(d)))
    assert figures["max_abs"] == pytest.approx(np.max(np.abs(r - d)))
    assert figures["mean_abs"] == pytest.approx(np.mean(np.abs(r - d)))
    assert figures["top1"] == (np.argmax(r) == np.argmax(d))


def test_top1_and_top5_for_classification_shaped_outputs():
    reference = np.array([[0.1, 0.9, 0.0, 0.2, 0.3, 0.4, 0.5]])
    second = np.array([[0.95, 0.9, 0.0, 0.2, 0.3, 0.4, 0.5]])  # class 1 ranked second
    last = np.array([[0.9, 0.0, 1.0, 0.8, 0.7, 0.6, 0.5]])  # class 1 ranked last
    assert compare(reference, reference)[("top1")] is True
    assert (compare(reference, second)["top1"], compare(reference, second)["top5"]) == (False, True)
    assert (compare(reference, last)["top1"], compare(reference, last)["top5"]) == (False, False)


def test_outputs_not_shaped_as_classes_have_no_top_k():
    figures = compare(np.ones((1, 3, 4, 4)), np.ones((1, 3, 4, 4)))
    assert figures["top1"] is None and figures["cosine"] == 1.0 and figures["max_abs"] == 0.0


def test_zeros_and_shape_mismatches():
    assert compare(np.zeros(4), np.zeros(4))["cosine"] == 1.0
    assert compare(np.zeros(4), np.ones(4))["cosine"] == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        compare(np.zeros((1, 4)), np.zeros((1, 5)))


def test_a_run_summary_is_the_worst_input_and_the_means():
    totals = AgreementTotals()
    pairs = [(RNG.normal(size=(1, 6)), RNG.normal(size=(1, 6))) for _ in range(5)]
    each = [compare(r, d) for r, d in pairs]
    for figures in each:
        totals.add("logits", figures)
    summary = totals.summary()
    assert summary["cosine"] == min(f["cosine"] for f in each)
    assert summary["cosine_mean"] == pytest.approx(np.mean([f["cosine"] for f in each]))
    assert summary["max_abs"] == max(f["max_abs"] for f in each)
    assert summary["mean_abs"] == pytest.approx(np.mean([f["mean_abs"] for f in each]))
    assert summary["top1"] == pytest.approx(np.mean([f["top1"] for f in each]))
    assert summary["outputs"]["logits"]["inputs"] == 5
    assert AgreementTotals().summary() is None


def test_latency_equals_numpy():
    timings = list(RNG.uniform(1, 20, size=37))
    summary = latency_summary(timings)
    assert summary["p50_ms"] == pytest.approx(np.percentile(timings, 50))
    assert summary["p90_ms"] == pytest.approx(np.percentile(timings, 90))
    assert summary["throughput"] == pytest.approx(1000 / np.mean(timings))
    assert latency_summary([]) is None


def test_expectations_pass_fail_and_unmeasured():
    gate = parse_expectations("cosine>=0.99, top1>=0.98,p50_ms<5")
    figures = gate_figures({"cosine": 0.995, "top1": None}, {"p50_ms": 3.0})
    results = [expectation.check(figures) for expectation in gate]
    assert [result["passed"] for result in results] == [True, False, True]
    assert results[1]["value"] is None  # not measured fails the gate


@pytest.mark.parametrize("text", ["", "cosine", "cosine=>1", "speed>=1", "cosine>=x"])
def test_bad_expectations_are_refused(text):
    with pytest.raises(ValueError):
        parse_expectations(text)
