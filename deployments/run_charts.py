"""The run page's two small charts, drawn on the server as inline SVG (no script, no
library, nothing from the network): the latency distribution of every timed repetition,
and the agreement of each input with the original model (its lowest cosine).

Each function answers the shapes a template draws: bars in a 0..WIDTH x 0..HEIGHT box,
with the axis' end labels.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WIDTH, HEIGHT = 300, 100
_BINS = 12


def latency_histogram(timings_ms: list[float]) -> dict[str, Any] | None:
    if not timings_ms:
        return None
    low, high = min(timings_ms), max(timings_ms)
    span = high - low or 1.0
    counts = [0] * _BINS
    for timing in timings_ms:
        counts[min(int((timing - low) / span * _BINS), _BINS - 1)] += 1
    tallest = max(counts)
    width = WIDTH / _BINS
    bars = []
    for index, count in enumerate(counts):
        height = HEIGHT * count / tallest
        start = low + span * index / _BINS
        bars.append(
            {
                "x": round(index * width + 1, 2),
                "y": round(HEIGHT - height, 2),
                "width": round(width - 2, 2),
                "height": round(height, 2),
                "label": ngettext(
                    "%(low).3f to %(high).3f ms: %(count)d inference",
                    "%(low).3f to %(high).3f ms: %(count)d inferences",
                    count,
                )
                % {"low": start, "high": start + span / _BINS, "count": count},
            }
        )
    return {"bars": bars, "low": f"{low:.3f}", "high": f"{high:.3f}", "count": len(timings_ms)}


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
