"""A signed-in Chromium tab with the options the page fixture does not take: the
browser's time zone, a viewport, a language. Screenshots land beside the others."""

from __future__ import annotations

import re

from django.conf import settings

from tests.e2e.conftest import ARTIFACTS


def signed_in_tab(
    browser,
    base_url,
    user,
    password,
    request,
    *,
    timezone_id=None,
    viewport=(1280, 800),
    language="en",
):
    options = {"viewport": {"width": viewport[0], "height": viewport[1]}}
    if timezone_id:
        options["timezone_id"] = timezone_id
    context = browser.new_context(**options)
    language_cookie = {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}
    context.add_cookies([language_cookie])
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    shots = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    shots.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))
    tab.shot = lambda name, full_page=True: tab.screenshot(
        path=str(shots / f"{next(counter):02}-{name}.png"), full_page=full_page
    )
    tab.goto(f"{base_url}/accounts/login/")
    tab.fill("#id_username", user.username)
    tab.fill("#id_password", password)
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"{base_url}/")
    return tab


def in_viewport(tab, selector: str) -> bool:
    """The element is wholly inside the visible part of the page."""
    return tab.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect();"
        " return r.height > 0 && r.top >= 0 && r.left >= 0"
        " && r.bottom <= window.innerHeight && r.right <= window.innerWidth; }",
    )


def slow_uplink(tab, bytes_per_second: int) -> None:
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )
