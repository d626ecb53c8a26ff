"""A rollout started from a group's page in Chromium, followed live on its page at 360 px
and 1280 px, in English and Traditional Chinese: devices pass, one fails, the rollout
pauses and says why, without a reload. The devices' agents are played by the
deployment service (their reports); the tests' task backend advances at once.

Screenshots at 1280x800 and 390x844 land in test-artifacts/browser/<test>/.
"""

# The fixtures come from other test modules (imported below): their names are reused.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from django.conf import settings

from deployments import group_services
from deployments.models import RolloutTarget
from devices import services as device_services
from tests.deployments.conftest import alice_devices  # noqa: F401
from tests.deployments.rollout_support import connect, fail, report
from tests.devices.conftest import issue_code, pair  # noqa: F401
from tests.e2e.test_deploy_browser import no_sideways_scroll, shots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
]

TEXT = {
    "en": {
        "roll_out": "Roll out a model",
        "start": "Start the rollout",
        "passed": "Passed",
        "paused": "Paused",
        "reason": "Phase 2: 1 of 2 devices failed",
        "skipped": "Built for KL720; this device has a KL520.",
        "failed": "The device did not install the model",
        "roll_back": "Roll back",
        "ask": "Roll back the rollout of Person detector to Rack A?",
    },
    "zh-hant": {
        "roll_out": "發布模型",
        "start": "開始發布",
        "passed": "已通過",
        "paused": "已暫停",
        "reason": "第 2 階段：2 台裝置中有 1 台失敗",  # noqa: RUF001
        "skipped": "此模型適用於 KL720；這台裝置是 KL520。",  # noqa: RUF001
        "failed": "裝置沒有安裝模型",
        "roll_back": "回復",
        "ask": "要回復 Person detector 到 Rack A 的發布嗎？",  # noqa: RUF001
    },
}


def row_state(page, device) -> str:
    return page.locator(f'tr[data-device-id="{device.pk}"]').get_attribute("data-state")


def wait_row(page, device, state: str) -> None:
    page.wait_for_selector(f'tr[data-device-id="{device.pk}"][data-state="{state}"]')


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_rollout_started_from_its_group_and_followed_live(
    page, live_server, alice, alice_devices, make_model, language
):
    text = TEXT[language]
    devices = [result.device for result in alice_devices(3)]
    other = alice_devices(1, chip="KL520")[0].device
    for device in devices:
        device_services.device_heartbeat(device=device, agent_status="ready")
        connect(device)  # its tunnel open: online (devices/presence.py)
    group = group_services.group_create(
        user=alice, name="Rack A", device_ids=[d.pk for d in [*devices, other]]
    )
    make_model(alice, "Person detector", chips=("KL720",))
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.set_viewport_size({"width": 360, "height": 740})

    page.goto(f"{live_server.url}/devices/groups/{group.pk}/")
    assert no_sideways_scroll(page)
    shots(page, "group")
    page.get_by_role("link", name=text["roll_out"]).click()
    page.fill("#id_phases", "1, rest")
    page.fill("#id_max_failure_percent", "0")
    page.get_by_role("button", name=text["start"]).click()
    page.wait_for_url("**/devices/rollouts/*/")
    assert no_sideways_scroll(page)
    assert text["skipped"] in page.content()

    first = RolloutTarget.objects.get(phase__number=1)
    assert row_state(page, first.device) == "deploying"
    shots(page, "rollout-started")
    report(first.device, first.deployment, "installed")
    wait_row(page, first.device, "passed")  # no reload: the page follows it
    assert text["passed"] in page.locator(f'tr[data-device-id="{first.device_id}"]').inner_text()
    one, _two = RolloutTarget.objects.filter(phase__number=2).select_related("deployment")
    wait_row(page, one.device, "deploying")

    fail(one.device, one.deployment)

    page.wait_for_selector('[data-role="pause"]:not([hidden])')
    assert text["reason"] in page.locator('[data-role="pause"]').inner_text()
    assert page.locator('[data-role="rollout-state"]').inner_text() == text["paused"]
    assert page.locator('form[data-action="retry"]').is_visible()
    assert not page.locator('form[data-action="pause"]').is_visible()
    assert no_sideways_scroll(page)
    shots(page, "rollout-paused")
    # The failure in the reader's language (written when the row changed, no reload).
    failed_row = page.locator(f'tr[data-device-id="{one.device_id}"] [data-role="reason"]')
    assert failed_row.inner_text().startswith(text["failed"])
    assert "(install_failed)" not in failed_row.inner_text()

    # Roll back asks first, on its own page; Cancel goes back, nothing changed.
    page.locator('a[data-action="rollback"]').click()
    page.wait_for_url("**/rollback/")
    assert text["ask"] in page.content()
    assert no_sideways_scroll(page)
    shots(page, "rollout-rollback-ask")
    page.get_by_role("button", name=text["roll_back"]).click()
    page.wait_for_url("**/devices/rollouts/*/")
    page.wait_for_selector('[data-role="rollback-summary"]')


def test_choosing_another_group_moves_the_model_to_one_it_can_take(
    page, live_server, alice, alice_devices, make_model
):
    kl720s = [r.device.pk for r in alice_devices(1)]
    kl520s = [r.device.pk for r in alice_devices(1, chip="KL520")]
    rack_720 = group_services.group_create(user=alice, name="A 720s", device_ids=kl720s)
    rack_520 = group_services.group_create(user=alice, name="B 520s", device_ids=kl520s)
    for_720 = make_model(alice, "a-detector", chips=("KL720",))
    for_520 = make_model(alice, "b-detector", chips=("KL520",))
    both = make_model(alice, "c-detector", chips=("KL520", "KL720"))

    page.goto(f"{live_server.url}/devices/rollouts/new/?group={rack_720.pk}")
    assert page.input_value("#id_model") == str(for_720.pk)
    page.select_option("#id_group", str(rack_520.pk))
    assert page.input_value("#id_model") == str(for_520.pk)  # the 720 model fits none
    page.select_option("#id_model", str(both.pk))
    page.select_option("#id_group", str(rack_720.pk))
    assert page.input_value("#id_model") == str(both.pk)  # it fits: the choice stays
