"""The new-rollout form: its smoke-run choices say when each run ran and on how many
inputs, and its model defaults to one the chosen group's devices can take, or none."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation

from deployments import group_selectors, group_services
from deployments.fleet_forms import smoke_run_label
from deployments.run_models import Run
from devices.choices import Chip

pytestmark = pytest.mark.django_db


def selected_model(html: str) -> str | None:
    select = re.search(r'<select name="model".*?</select>', html, re.S).group(0)
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return chosen.group(1) if chosen else None


def test_the_model_defaults_to_one_the_group_can_take(
    alice_client, alice, make_model, alice_devices
):
    kl520_first = make_model(alice, "a-kl520", chips=("KL520",))
    fits = make_model(alice, "b-kl720", chips=("KL720",))
    kl720 = group_services.group_create(
        user=alice, name="kl720s", device_ids=[r.device.pk for r in alice_devices(2)]
    )
    html = alice_client.get(f"/devices/rollouts/new/?group={kl720.pk}").content.decode()
    assert selected_model(html) == str(fits.pk)
    # Asked for by name (from a model's page): kept.
    asked = f"/devices/rollouts/new/?group={kl720.pk}&model={kl520_first.pk}"
    assert selected_model(alice_client.get(asked).content.decode()) == str(kl520_first.pk)


def test_no_model_is_chosen_when_none_fits(alice_client, alice, make_model, alice_devices):
    make_model(alice, "b-kl720", chips=("KL720",))
    (kl520,) = alice_devices(1, chip=Chip.KL520)
    group = group_services.group_create(user=alice, name="old", device_ids=[kl520.device.pk])
    html = alice_client.get(f"/devices/rollouts/new/?group={group.pk}").content.decode()
    assert selected_model(html) in (None, "")
    assert "Choose a model" in html
    refused = alice_client.post(
        "/devices/rollouts/new/",
        {"group": str(group.pk), "model": "", "phases": "1", "max_failure_percent": "10"}
        | {"wait_minutes": "30"},
    )
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "detector · desk-1 · 7 Dec 2026, 19:20 · 10 inputs"),
        ("zh-hant", "detector · desk-1 · 2026年12月7日 19:20 · 10 個輸入"),
    ],
)
def test_a_smoke_run_choice_says_when_and_on_how_many_inputs(
    alice, make_model, alice_device, language, expected
):
    model = make_model(alice, "detector", chips=("KL720",))
    device = alice_device.device
    device.name = "desk-1"
    finished = datetime(2026, 12, 7, 11, 20, tzinfo=UTC)  # 19:20 in Taipei
    run = Run(model=model, device=device, inputs_count=10, finished_at=finished)
    with translation.override(language), timezone.override("Asia/Taipei"):
        assert smoke_run_label(run) == expected
    run.inputs_count = 1
    assert smoke_run_label(run).endswith("· 1 input")


def test_each_groups_chips_come_in_one_query(alice, alice_devices, django_assert_num_queries):
    kl720s = [r.device.pk for r in alice_devices(2)]
    (kl520,) = alice_devices(1, chip=Chip.KL520)
    mixed = group_services.group_create(user=alice, name="m", device_ids=[*kl720s, kl520.device.pk])
    empty = group_services.group_create(user=alice, name="e", device_ids=[])
    with django_assert_num_queries(1):
        chips = group_selectors.group_chips(groups=[mixed, empty])
    assert chips == {str(mixed.pk): ["KL520", "KL720"], str(empty.pk): []}
