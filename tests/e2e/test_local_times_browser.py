"""A browser in Asia/Taipei sees every time in Taipei time, the zone named, without
doing anything: the page posts the zone once and shows the times again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conversion.factories import make_job

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

STARTED = datetime(2026, 3, 14, 12, 22, tzinfo=UTC)  # 20:22 in Taipei


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "14 Mar 2026, 20:22"), ("zh-hant", "2026年3月14日 20:22")]
)
def test_a_browser_in_taipei_sees_taipei_times(
    open_tab, live_server, sandbox, alice, language, shown
):
    job = make_job(alice, status="completed", created_at=STARTED, finished_at=STARTED)
    tab = open_tab(
        timezone_id="Asia/Taipei",
        language=language,
    )
    tab.goto(f"{live_server.url}/conversions/")
    # The first page after sign-in told the server (or, if this one came first, it
    # reloads itself once): the times are in Taipei time.
    cell = tab.locator("td time[data-local]", has_text=shown)
    cell.wait_for()
    assert cell.inner_text() == shown
    assert cell.get_attribute("title") == "Asia/Taipei (UTC+8)"
    assert cell.get_attribute("datetime") == "2026-03-14T12:22:00+00:00"
    assert "Asia/Taipei" in tab.inner_text("#time-zone-note")
    tab.shot("history-in-taipei")
    tab.goto(f"{live_server.url}/convert/{job.job_id}/")
    assert f"{shown} UTC+8" in tab.inner_text("#job")
    tab.shot("job-in-taipei")


def test_a_page_showing_utc_times_reloads_once_in_the_browsers_zone(
    open_tab, live_server, sandbox, alice
):
    make_job(alice, status="completed", created_at=STARTED, finished_at=STARTED)
    tab = open_tab(timezone_id="Asia/Taipei")
    tab.wait_for_load_state("networkidle")  # the home page has sent the zone
    # The session says UTC now (as before the browser told it): the next page with
    # times is rendered in UTC, then reloads itself once in Taipei time.
    tab.evaluate(
        """url => fetch(url, {method: "POST", headers: {"X-CSRFToken":
             document.querySelector("input[name=csrfmiddlewaretoken]").value,
             "Content-Type": "application/x-www-form-urlencoded"}, body: "time_zone=UTC"})""",
        "/i18n/time-zone/",
    )
    loads = []
    tab.on("load", lambda _page: loads.append(1))
    tab.goto(f"{live_server.url}/conversions/")
    tab.locator("td time[data-local]", has_text="20:22").wait_for()
    tab.wait_for_load_state("networkidle")
    assert tab.get_attribute("html", "data-time-zone") == "Asia/Taipei"
    assert len(loads) == 2  # the UTC page, and one reload
