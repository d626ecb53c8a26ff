"""The run page's two small charts, drawn on the server as inline SVG (no script, no
library, nothing from the network): the latency distribution of every timed repetition,
and the agreement of each input with the original model (its lowest cosine).

Each function answers the shapes a template draws: bars in a 0..WIDTH x 0..HEIGHT box,
with the axis' end labels.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WIDTH, HEIGHT = 300, 100
_BINS = 12
# Tukey's "far out" fence: slower than the third quartile by three interquartile ranges.
_FAR_OUT = 3.0


def latency_histogram(timings_ms: list[float]) -> dict[str, Any] | None:
    """Even bins from the fastest timing to the slowest that is not far out, then, apart,
    one "slower" bar for the far-out ones.

    A device's first inferences (warm-up: caches, clocks, lazy allocation) can take ten
    times the rest; bins spread up to them would put nearly every timing in the first
    bar. The fence comes from the quartiles, so it holds for a run of 30 timings with 3
    warm-ups, where a p99 cut would be the slowest timing itself; and the axis stays in
    plain milliseconds, which a log scale would not. Only the slow side is fenced: a
    device is never far faster than its usual time."""
    if not timings_ms:
        return None
    ordered = sorted(timings_ms)
    fence = _far_out_fence(ordered)
    usual = [timing for timing in ordered if timing <= fence]
    slower = ordered[len(usual) :]
    low, high = usual[0], usual[-1]
    span = high - low or 1.0
    counts = [0] * _BINS
    for timing in usual:
        counts[min(int((timing - low) / span * _BINS), _BINS - 1)] += 1
    tallest = max(*counts, len(slower))
    # With a slower bar, it takes one more slot, half a slot apart from the others.
    width = WIDTH / (_BINS + 1.5) if slower else WIDTH / _BINS
    bars = []
    for index, count in enumerate(counts):
        start = low + span * index / _BINS
        label = ngettext(
            "%(low).3f to %(high).3f ms: %(count)d inference",
            "%(low).3f to %(high).3f ms: %(count)d inferences",
            count,
        ) % {"low": start, "high": start + span / _BINS, "count": count}
        bars.append(_bar(index * width, width, count, tallest, label))
    slower_bar = None
    if slower:
        label = ngettext(
            "slower than %(low).3f ms (up to %(high).3f ms): %(count)d inference",
            "slower than %(low).3f ms (up to %(high).3f ms): %(count)d inferences",
            len(slower),
        ) % {"low": high, "high": slower[-1], "count": len(slower)}
        slower_bar = _bar(WIDTH - width, width, len(slower), tallest, label)
    return {
        "bars": bars,
        "slower": slower_bar,
        "low": f"{low:.3f}",
        "high": f"{high:.3f}",
        "slowest": f"{ordered[-1]:.3f}",
        "count": len(timings_ms),
    }


def _far_out_fence(ordered: list[float]) -> float:
    if len(ordered) < 4:  # too few for quartiles to say what is usual
        return ordered[-1]
    first, _, third = statistics.quantiles(ordered, n=4, method="inclusive")
    # At least half as slow again as the third quartile: timings that barely vary (a
    # coarse timer gives an interquartile range of 0) keep every one in the usual bars.
    return max(third + _FAR_OUT * (third - first), third * 1.5)


def _bar(x: float, width: float, count: int, tallest: int, label: str) -> dict[str, Any]:
    height = HEIGHT * count / tallest
    return {
        "x": round(x + 1, 2),
        "y": round(HEIGHT - height, 2),
        "width": round(width - 2, 2),
        "height": round(height, 2),
        "count": count,
        "label": label,
    }


def agreement_bars(inputs: list[Any]) -> dict[str, Any] | None:
    """One bar per input compared: its lowest cosine over the outputs, on an axis from
    ``floor`` (two decimals under the lowest) to 1, so small differences show."""
    values = []
    for item in inputs:
        figures = [
            f for f in (item.agreement or {}).values() if isinstance(f, dict) and "cosine" in f
        ]
        if figures:
            cosine = min(f["cosine"] for f in figures)
            agrees = all(f.get("top1") is not False for f in figures)
            values.append((item, cosine, agrees))
    if not values:
        return None
    lowest = min(cosine for _, cosine, _ in values)
    floor = max(-1.0, math.floor((lowest - 0.005) * 100) / 100)
    span = 1.0 - floor or 1.0
    width = WIDTH / len(values)
    bars = []
    for position, (item, cosine, agrees) in enumerate(values):
        height = HEIGHT * max(0.0, cosine - floor) / span
        bars.append(
            {
                "x": round(position * width + min(1, width * 0.1), 2),
                "y": round(HEIGHT - height, 2),
                "width": round(max(width - 2 * min(1, width * 0.1), 0.5), 2),
                "height": round(height, 2),
                "agrees": agrees,
                "label": _("#%(index)d %(name)s: cosine %(cosine).6f")
                % {"index": item.index, "name": item.name, "cosine": cosine},
            }
        )
    # The inputs' numbers at the two ends, as the table below numbers them.
    first, last = values[0][0].index, values[-1][0].index
    return {"bars": bars, "floor": f"{floor:.2f}", "first": first, "last": last}
