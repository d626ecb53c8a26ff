"""A run's figures: on-device latency, agreement with the original model, and the
expectations a CI gate checks them against. One definition for visionA's run page and
the ``visiona run`` command, so both say the same of the same outputs.

Agreement, per input and output (the device's output ``d`` against the reference ``r``,
both flattened, in float64):

- ``cosine``: r·d / (|r| |d|) (1 when both are all zeros, 0 when only one is);
- ``max_abs`` and ``mean_abs``: the largest and the mean of |r - d|;
- for a classification-shaped output (one vector of at least 2 scores once the batch of
  one is dropped): ``top1``, whether both rank the same class first, and ``top5``,
  whether the reference's first class is among the device's first five.

Over a run: ``cosine`` is the lowest of all (a gate wants every input to agree),
``cosine_mean`` their mean, ``max_abs`` the largest, ``mean_abs`` the mean of the
means, ``top1`` and ``top5`` the share of inputs that agree. Latency over every timed
repetition of every input: ``p50_ms``, ``p90_ms`` (linear interpolation between
ranks, as numpy's default), ``mean_ms`` and ``throughput`` (inferences per second,
1000 / mean_ms, one at a time).

Latency and expectations need only Python; agreement needs numpy (the ``validate`` extra).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TOP_K = 5
_MAX_CLASSES = 1_000_000

# Latency ----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0..1) percentile of ``values``, interpolated as numpy's default."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(timings_ms: Iterable[float]) -> dict[str, float] | None:
    values = list(timings_ms)
    if not values:
        return None
    mean = sum(values) / len(values)
    return {
        "count": len(values),
        "p50_ms": percentile(values, 0.5),
        "p90_ms": percentile(values, 0.9),
        "mean_ms": mean,
        "min_ms": min(values),
        "max_ms": max(values),
        "throughput": 1000.0 / mean if mean > 0 else 0.0,
    }


# Agreement --------------------------------------------------------------------------


def compare(reference: Any, device: Any) -> dict[str, Any]:
    """The agreement of one output for one input; ValueError when shapes differ."""
    import numpy as np

    ref = np.asarray(reference, dtype=np.float64)
    got = np.asarray(device, dtype=np.float64)
    if ref.shape != got.shape:
        raise ValueError(f"shapes differ: reference {ref.shape}, device {got.shape}")
    flat_ref, flat_got = ref.ravel(), got.ravel()
    norms = float(np.linalg.norm(flat_ref)) * float(np.linalg.norm(flat_got))
    if norms == 0.0:
        cosine = 1.0 if not flat_ref.any() and not flat_got.any() else 0.0
    else:
        # Clamped: rounding can take identical vectors a hair past 1.
        cosine = max(-1.0, min(1.0, float(np.dot(flat_ref, flat_got) / norms)))
    difference = np.abs(flat_ref - flat_got)
    figures: dict[str, Any] = {
        "cosine": cosine,
        "max_abs": float(difference.max()) if difference.size else 0.0,
        "mean_abs": float(difference.mean()) if difference.size else 0.0,
        "top1": None,
        "top5": None,
    }
    scores = np.squeeze(ref)
    if scores.ndim == 1 and 2 <= scores.size <= _MAX_CLASSES:
        device_scores = np.squeeze(got)
        first = int(np.argmax(scores))
        top = np.argsort(-device_scores, kind="stable")[: min(TOP_K, scores.size)]
        figures["top1"] = first == int(top[0])
        figures["top5"] = first in {int(index) for index in top}
    return figures


@dataclass
class _OutputTotals:
    count: int = 0
    cosine_min: float = math.inf
    cosine_sum: float = 0.0
    max_abs: float = 0.0
    mean_abs_sum: float = 0.0
    classified: int = 0
    top1: int = 0
    top5: int = 0

    def add(self, figures: Mapping[str, Any]) -> None:
        self.count += 1
        self.cosine_min = min(self.cosine_min, figures["cosine"])
        self.cosine_sum += figures["cosine"]
        self.max_abs = max(self.max_abs, figures["max_abs"])
        self.mean_abs_sum += figures["mean_abs"]
        if figures.get("top1") is not None:
            self.classified += 1
            self.top1 += bool(figures["top1"])
            self.top5 += bool(figures["top5"])

    def summary(self) -> dict[str, Any]:
        return {
            "inputs": self.count,
            "cosine": self.cosine_min,
            "cosine_mean": self.cosine_sum / self.count,
            "max_abs": self.max_abs,
            "mean_abs": self.mean_abs_sum / self.count,
            "top1": self.top1 / self.classified if self.classified else None,
            "top5": self.top5 / self.classified if self.classified else None,
        }


@dataclass
class AgreementTotals:
    """Figures gathered input by input (never the outputs themselves)."""

    outputs: dict[str, _OutputTotals] = field(default_factory=dict)

    def add(self, output: str, figures: Mapping[str, Any]) -> None:
        self.outputs.setdefault(output, _OutputTotals()).add(figures)

    def summary(self) -> dict[str, Any] | None:
        """The run's figures (the worst of its outputs), and each output's."""
        if not self.outputs:
            return None
        per_output = {name: totals.summary() for name, totals in self.outputs.items()}
        every = list(per_output.values())
        count = sum(totals.count for totals in self.outputs.values())
        classified = [f for f in every if f["top1"] is not None]
        return {
            "cosine": min(f["cosine"] for f in every),
            "cosine_mean": sum(t.cosine_sum for t in self.outputs.values()) / count,
            "max_abs": max(f["max_abs"] for f in every),
            "mean_abs": sum(t.mean_abs_sum for t in self.outputs.values()) / count,
            "top1": min(f["top1"] for f in classified) if classified else None,
            "top5": min(f["top5"] for f in classified) if classified else None,
            "outputs": per_output,
        }


# Expectations -----------------------------------------------------------------------

FIGURES = {
    "cosine": "the lowest cosine similarity of any input",
    "cosine_mean": "the mean cosine similarity",
    "max_abs": "the largest absolute error",
    "mean_abs": "the mean absolute error",
    "top1": "the share of inputs whose first class agrees",
    "top5": "the share whose reference class is in the device's first five",
    "p50_ms": "the median latency, ms",
    "p90_ms": "the 90th percentile latency, ms",
    "throughput": "inferences per second",
}
_OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_EXPECTATION = re.compile(r"^\s*([a-z0-9_]+)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Expectation:
    figure: str
    comparison: str
    bound: float

    def __str__(self) -> str:
        return f"{self.figure}{self.comparison}{self.bound:g}"

    def check(self, figures: Mapping[str, Any]) -> dict[str, Any]:
        value = figures.get(self.figure)
        passed = value is not None and _OPERATORS[self.comparison](value, self.bound)
        return {"expectation": str(self), "value": value, "passed": bool(passed)}


def parse_expectations(text: str) -> list[Expectation]:
    """``"cosine>=0.99,top1>=0.98"``; ValueError naming what is wrong."""
    found = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        match = _EXPECTATION.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not FIGURE>=NUMBER (or <=, >, <)")
        name, comparison, raw = match.groups()
        if name not in FIGURES:
            raise ValueError(f"{name!r} is not a figure; figures: {', '.join(FIGURES)}")
        try:
            bound = float(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
        found.append(Expectation(name, comparison, bound))
    if not found:
        raise ValueError("no expectation given")
    return found


def gate_figures(
    agreement: Mapping[str, Any] | None, latency: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The flat figures expectations are checked against (None: not measured)."""
    figures: dict[str, Any] = dict.fromkeys(FIGURES)
    for source in (agreement or {}, latency or {}):
        figures.update({key: value for key, value in source.items() if key in FIGURES})
    return figures
