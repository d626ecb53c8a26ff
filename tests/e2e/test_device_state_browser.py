"""A device's state never contradicts itself, in Chromium at 1280 and 360 px, in English
and Traditional Chinese: a running demo agent reads Online with its tunnel connected;
the moment it stops (its last heartbeat still seconds old) the list and the device's
page read Offline with the tunnel not connected, and the page shows the command that
starts it again, with --demo, and a Copy button that copies it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from devices import tunnel_registry
from devices.models import Device
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ONLINE = {"en": "Online", "zh-hant": "線上"}
OFFLINE = {"en": "Offline", "zh-hant": "離線"}


def shots_fit(page, name):
    for width, height in ((1280, 800), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        page.shot(f"{name}-{width}")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_stopped_agent_reads_offline_at_once_and_its_restart_command_has_demo(
    page, live_server, connected_agent, language
):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    device = connected_agent.device
    page.goto(f"{live_server.url}/devices/{device.pk}/")
    assert page.inner_text("main .card dd .status").strip() == ONLINE[language]
    assert page.locator("main .card dd .status-offline").count() == 0
    shots_fit(page, "online")

    connected_agent.process.terminate()
    connected_agent.process.wait(timeout=30)
    # The relay drops the tunnel's entry as the connection closes (asynchronously).
    wait_for(lambda: tunnel_registry.lookup(str(device.pk)) is None or None, timeout=30)
    # Its heartbeat still recent, so only the tunnel can say it stopped. Made so, not
    # waited for: on a loaded machine the agent's last heartbeat could age past the
    # threshold before this point, and the heartbeat would then decide as well.
    Device.objects.filter(pk=device.pk).update(last_heartbeat_at=timezone.now())
    device = Device.objects.get(pk=device.pk)
    assert device.heartbeat_is_recent()
    for path in (f"/devices/{device.pk}/", "/devices/"):
        page.goto(live_server.url + path)
        assert page.locator("main .status-online").count() == 0, path
        assert OFFLINE[language] in page.inner_text("main"), path
    page.goto(f"{live_server.url}/devices/{device.pk}/")
    command = page.inner_text("#run-command")
    assert command.startswith("visiona-agent run --server ") and command.endswith("--demo")
    page.click("button[data-copy=run-command]")
    assert page.evaluate("navigator.clipboard.readText()") == command
    shots_fit(page, "offline")
