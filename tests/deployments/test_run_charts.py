"""The run page's latency histogram with warm-ups: the usual timings spread over the
bars, the far slower ones counted in a bar of their own (deployments/run_charts.py)."""

from __future__ import annotations

import pytest

from deployments.run_charts import WIDTH, latency_histogram
from tests.deployments.run_support import installed_model
from tests.deployments.test_run_api import agent_runs_all_inputs, create

# 27 usual timings, 3.000 to 3.962 ms, and 3 warm-ups ten times slower or more.
USUAL = [3.0 + 0.037 * i for i in range(27)]
WARM_UPS = [40.0, 52.0, 60.0]


def test_warm_ups_have_a_bar_apart_and_the_usual_timings_spread():
    chart = latency_histogram(WARM_UPS[:1] + USUAL + WARM_UPS[1:])
    counts = [bar["count"] for bar in chart["bars"]]
    # Bins up to the slowest (60 ms) would put all 27 in the first bar.
    assert sum(counts) == 27 and max(counts) <= 3
    assert all(counts)
    assert (chart["low"], chart["high"], chart["slowest"]) == ("3.000", "3.962", "60.000")
    slower = chart["slower"]
    assert slower["count"] == 3
    assert slower["label"] == "slower than 3.962 ms (up to 60.000 ms): 3 inferences"
    last = chart["bars"][-1]
    assert last["x"] + last["width"] < slower["x"] < slower["x"] + slower["width"] <= WIDTH
    assert slower["height"] == max(bar["height"] for bar in chart["bars"]) == 100


@pytest.mark.parametrize(
    "timings",
    [
        [*USUAL, 4.5],  # a tail, not far out
        [3.0] * 20 + [4.0] * 5,  # a coarse timer: no spread between the quartiles
        [3.0, 50.0],  # too few to say what is usual
        [2.5],
    ],
)
def test_without_far_out_timings_every_bar_is_usual(timings):
    chart = latency_histogram(timings)
    assert chart["slower"] is None
    assert sum(bar["count"] for bar in chart["bars"]) == len(timings)
    assert chart["high"] == chart["slowest"] == f"{max(timings):.3f}"


def test_no_timings_no_chart():
    assert latency_histogram([]) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            (
                "ms, then slower</span>",
                "slower than 3.350 ms (up to 40.000 ms): 3 inferences</title>",
                "counts the 3 inferences far slower than the others (warm-ups, often)",
            ),
        ),
        (
            "zh-hant",
            (
                "ms，之後是更慢的</span>",  # noqa: RUF001
                "慢於 3.350 ms（最慢 40.000 ms）：3 次推論</title>",  # noqa: RUF001
                "比其他慢得多的 3 次推論（常是暖機）",  # noqa: RUF001
            ),
        ),
    ],
)
def test_the_run_page_shows_the_warm_ups_apart_in_both_languages(
    alice, alice_client, alice_device, agent_client, language, words
):
    model, _, nef = installed_model(alice, alice_device.device)
    run = create(alice_client, model, alice_device.device).json()
    # Each input's first inference is a warm-up.
    timings = "40.0,3.1,3.2,3.0,3.3,3.15,3.05,3.25,3.35,3.2"
    agent_runs_all_inputs(agent_client(alice_device.token), run["id"], nef, timings)
    response = alice_client.get(f"/runs/{run['id']}/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    for word in words:
        assert word in html
    assert html.count('class="chart-bar chart-bar-slower"') == 1
