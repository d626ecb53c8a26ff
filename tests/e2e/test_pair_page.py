"""Pairing from the page in Chromium: copy the commands, run them, see the device.

The agent runs in its own process with the command the page shows, as a user
would paste it (``visiona-agent`` is ``python -m visiona_client`` here).
"""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest
from django.conf import settings

from devices.models import Device
from tests.client.conftest import agent_environment, built_wheel_dir  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served(settings, built_wheel_dir):  # noqa: F811
    settings.CLIENT_DOWNLOADS_DIR = built_wheel_dir


def run_shown_command(command: str, tmp_path) -> subprocess.CompletedProcess:
    words = shlex.split(command)
    assert words[0] == "visiona-agent"
    return subprocess.run(
        [sys.executable, "-m", "visiona_client", *words[1:], "--state-dir", str(tmp_path / "s")],
        env=agent_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_pair_page_fits_a_phone_and_pairs_the_demo_agent(
    page,
    live_server,
    served,
    tmp_path,
    language,
):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/devices/pair/")
    page.click("main button[type=submit]")
    page.wait_for_selector("#command-pair")
    page.click(".command-demo summary")  # open the demo commands too
    page.shot("pair-narrow")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # Nor is any part of a command hidden in its box: long words wrap inside it.
    hidden = page.evaluate(
        "Array.from(document.querySelectorAll('.command pre'))"
        ".filter(pre => pre.scrollWidth > pre.clientWidth).length"
    )
    assert hidden == 0

    install = page.inner_text("#command-install")
    assert install.startswith(f"pip install {live_server.url}/downloads/visiona_client-")
    # The demo's install names its extra (onnxruntime: the demo really runs models).
    demo_install = page.inner_text("#command-demo-install")
    assert demo_install.startswith("pip install 'visiona-client[demo] @ ")
    copy = page.locator('button[data-copy="command-demo-pair"]')
    assert copy.is_visible()
    copy.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.inner_text("#command-demo-pair")

    result = run_shown_command(copied, tmp_path)
    assert result.returncode == 0, result.stderr
    device = Device.objects.get()
    # The page notices on its next poll and opens the device.
    page.wait_for_url(f"{live_server.url}/devices/{device.pk}/", timeout=15_000)
