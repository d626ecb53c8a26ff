"""A rollout's page counts down each running phase's wait for offline devices, and shows a
phase's deadline the moment it begins, without a reload, at 360 px and 1280 px, in English
and Traditional Chinese. The agents are played by the deployment service; the tests'
task backend advances the rollout at once.
"""

# The fixtures come from other test modules (imported below): their names are reused.
# ruff: noqa: F811

from __future__ import annotations

import re

import pytest
from django.conf import settings

from deployments import group_services, rollout_services
from deployments.models import RolloutPhase, RolloutTarget
from devices import services as device_services
from tests.deployments.conftest import alice_devices  # noqa: F401
from tests.deployments.rollout_support import connect, report
from tests.devices.conftest import issue_code, pair  # noqa: F401
from tests.e2e.test_deploy_browser import no_sideways_scroll

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
]

# A wait of 10 minutes, read a few seconds after it began.
LEFT = {
    "en": re.compile(r"^(9 min \d+ s|10 min 0 s) left$"),
    "zh-hant": re.compile(r"^剩餘 (9 分 \d+ 秒|10 分 0 秒)$"),
}


def countdown(page, number: int):
    return page.locator(f'tr[data-phase="{number}"] [data-role="countdown"]')


def deadline(page, number: int) -> str:
    return page.locator(f'tr[data-phase="{number}"] [data-role="deadline"]').inner_text()


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_offline_devices_deadline_is_counted_down_live(
    page, live_server, alice, alice_devices, make_model, language, width
):
    online, offline = (result.device for result in alice_devices(2))
    device_services.device_heartbeat(device=online, agent_status="ready")
    connect(online)  # connected devices come first: it is phase 1's
    group = group_services.group_create(
        user=alice, name="Rack A", device_ids=[online.pk, offline.pk]
    )
    model = make_model(alice, "Person detector", chips=("KL720",))
    rollout = rollout_services.rollout_create(
        user=alice, model_id=model.pk, group_id=group.pk, phases=["1", "rest"], wait_seconds=600
    )
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.set_viewport_size({"width": width, "height": 800})

    page.goto(f"{live_server.url}/devices/rollouts/{rollout.pk}/")

    first = countdown(page, 1)
    assert LEFT[language].match(first.inner_text()), first.inner_text()
    shown = first.inner_text()
    page.wait_for_function(  # it counts down, second by second
        "([element, shown]) => element.textContent !== shown", arg=[first.element_handle(), shown]
    )
    assert LEFT[language].match(first.inner_text()), first.inner_text()
    assert deadline(page, 2) == "—" and not countdown(page, 2).is_visible()
    assert no_sideways_scroll(page)

    target = RolloutTarget.objects.select_related("deployment").get(device=online)
    report(online, target.deployment, "installed")  # phase 1 passes; phase 2 begins

    page.wait_for_selector('tr[data-phase="2"] [data-role="countdown"]:not([hidden])')
    assert LEFT[language].match(countdown(page, 2).inner_text()), countdown(page, 2).inner_text()
    assert not countdown(page, 1).is_visible()  # phase 1 passed: nothing left to wait for
    written = deadline(page, 2)  # by the script, in the page's own format
    assert RolloutPhase.objects.get(rollout=rollout, number=2).deadline_at is not None
    page.reload()
    assert deadline(page, 2) == written  # as the server writes it
    assert no_sideways_scroll(page)
